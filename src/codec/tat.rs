//! CL.THROTTLE's stored value, as redis-cell leaves it: the theoretical arrival time in
//! nanoseconds since the Unix epoch, as a bare decimal integer. RL.FIXED's count has the same
//! shape: this is the one format that cannot be told apart from another (see the README).

use super::text::{parse_u64, push_decimal};
use super::{foreign, Buf, StateError};
use crate::command::Command;

/// The TAT in `bytes`; a negative or oversized number is out of range.
pub fn decode(bytes: &[u8]) -> Result<i64, StateError> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let is_number = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    if !is_number {
        return Err(foreign(bytes, Command::Throttle));
    }
    match parse_u64(bytes).and_then(|v| i64::try_from(v).ok()) {
        Some(tat) => Ok(tat),
        None => Err(StateError::OutOfRange),
    }
}

pub fn encode(tat: i64) -> Buf {
    let mut buf = Buf::default();
    push_decimal(&mut buf, u128::try_from(tat).unwrap_or(0));
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_redis_cells_decimal_nanoseconds() {
        assert_eq!(decode(b"1700000000123456789"), Ok(1_700_000_000_123_456_789));
        assert_eq!(encode(1_700_000_000_123_456_789).as_slice(), b"1700000000123456789");
        assert_eq!(decode(b"9223372036854775807"), Ok(i64::MAX));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(b"-5"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"9223372036854775808"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"99999999999999999999999"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"12.5"), Err(StateError::Unreadable));
        assert_eq!(decode(b"abc"), Err(StateError::Unreadable));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
        assert_eq!(decode(b"\x02\x10\x00\x05"), Err(StateError::OtherCommand(Command::Token)));
    }
}
