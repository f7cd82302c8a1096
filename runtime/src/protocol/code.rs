//! The sixteen Connect/gRPC status codes and their HTTP mappings.

use std::fmt;
use std::str::FromStr;

/// A Connect (and gRPC) status code. `Ok` is not a code: success is the absence of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Code {
    /// The operation was cancelled, typically by the caller.
    Canceled = 1,
    /// An unknown error.
    Unknown = 2,
    /// The client specified an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the operation could complete.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity that a client attempted to create already exists.
    AlreadyExists = 6,
    /// The caller does not have permission to execute the operation.
    PermissionDenied = 7,
    /// Some resource has been exhausted (quota, message size, ...).
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9,
    /// The operation was aborted, typically due to a concurrency issue.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation is not implemented or not supported.
    Unimplemented = 12,
    /// An internal invariant was broken.
    Internal = 13,
    /// The service is currently unavailable; usually transient.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request does not have valid authentication credentials.
    Unauthenticated = 16,
}

/// All sixteen codes, in numeric order.
pub(crate) const ALL_CODES: [Code; 16] = [
    Code::Canceled,
    Code::Unknown,
    Code::InvalidArgument,
    Code::DeadlineExceeded,
    Code::NotFound,
    Code::AlreadyExists,
    Code::PermissionDenied,
    Code::ResourceExhausted,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::OutOfRange,
    Code::Unimplemented,
    Code::Internal,
    Code::Unavailable,
    Code::DataLoss,
    Code::Unauthenticated,
];

impl Code {
    /// The Connect name of the code (`not_found`, `deadline_exceeded`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Canceled => "canceled",
            Code::Unknown => "unknown",
            Code::InvalidArgument => "invalid_argument",
            Code::DeadlineExceeded => "deadline_exceeded",
            Code::NotFound => "not_found",
            Code::AlreadyExists => "already_exists",
            Code::PermissionDenied => "permission_denied",
            Code::ResourceExhausted => "resource_exhausted",
            Code::FailedPrecondition => "failed_precondition",
            Code::Aborted => "aborted",
            Code::OutOfRange => "out_of_range",
            Code::Unimplemented => "unimplemented",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::DataLoss => "data_loss",
            Code::Unauthenticated => "unauthenticated",
        }
    }

    /// The numeric gRPC code.
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// The code for a numeric gRPC status; `0` (OK) and out-of-range values yield `None`.
    pub fn from_i32(n: i32) -> Option<Code> {
        if (1..=16).contains(&n) {
            Some(ALL_CODES[(n - 1) as usize])
        } else {
            None
        }
    }

    /// The HTTP status a Connect server answers a unary error with.
    pub const fn http_status(self) -> u16 {
        match self {
            Code::Canceled => 499,
            Code::Unknown => 500,
            Code::InvalidArgument => 400,
            Code::DeadlineExceeded => 504,
            Code::NotFound => 404,
            Code::AlreadyExists => 409,
            Code::PermissionDenied => 403,
            Code::ResourceExhausted => 429,
            Code::FailedPrecondition => 400,
            Code::Aborted => 409,
            Code::OutOfRange => 400,
            Code::Unimplemented => 501,
            Code::Internal => 500,
            Code::Unavailable => 503,
            Code::DataLoss => 500,
            Code::Unauthenticated => 401,
        }
    }

    /// The code a client infers from a bare HTTP status when the body carries no
    /// Connect error (a proxy's answer, say). These are the Connect spec's rules,
    /// inherited from gRPC's HTTP mapping: note 404 means `unimplemented`.
    pub const fn from_http_status(status: u16) -> Code {
        match status {
            400 => Code::Internal,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            429 | 502 | 503 | 504 => Code::Unavailable,
            _ => Code::Unknown,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown code name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Connect code name {0:?}")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_CODES
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_round_trip() {
        for (i, code) in ALL_CODES.iter().enumerate() {
            assert_eq!(code.as_i32(), i as i32 + 1);
            assert_eq!(Code::from_i32(code.as_i32()), Some(*code));
            assert_eq!(code.as_str().parse::<Code>().unwrap(), *code);
        }
        assert_eq!(Code::from_i32(0), None);
        assert_eq!(Code::from_i32(17), None);
        assert!("NOT_FOUND".parse::<Code>().is_err());
    }

    #[test]
    fn http_mappings_follow_the_spec() {
        assert_eq!(Code::NotFound.http_status(), 404);
        assert_eq!(Code::Canceled.http_status(), 499);
        assert_eq!(Code::ResourceExhausted.http_status(), 429);
        assert_eq!(Code::Unimplemented.http_status(), 501);
        assert_eq!(Code::from_http_status(404), Code::Unimplemented);
        assert_eq!(Code::from_http_status(503), Code::Unavailable);
        assert_eq!(Code::from_http_status(429), Code::Unavailable);
        assert_eq!(Code::from_http_status(400), Code::Internal);
        assert_eq!(Code::from_http_status(401), Code::Unauthenticated);
        assert_eq!(Code::from_http_status(403), Code::PermissionDenied);
        assert_eq!(Code::from_http_status(418), Code::Unknown);
    }
}
