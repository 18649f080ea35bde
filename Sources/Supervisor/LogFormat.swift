import Logging
import Settings

extension Logger.Format {
    /// The log format a configuration asks for: the one mapping from `--log-format` to the logger.
    public init(_ format: Configuration.LogFormat) {
        switch format {
        case .logfmt: self = .logfmt
        case .json: self = .json
        }
    }
}
