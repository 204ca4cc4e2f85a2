//! RL.FIXED's stored value: the count as a bare decimal integer, so `GET key` shows it.

use super::text::{parse_u64, push_decimal};
use super::{foreign, Buf, StateError};
use crate::command::Command;

/// The count in `bytes`; a negative or oversized number is out of range.
pub fn decode(bytes: &[u8]) -> Result<u64, StateError> {
    if let Some(digits) = bytes.strip_prefix(b"-") {
        return match parse_u64(digits) {
            Some(_) => Err(StateError::OutOfRange),
            None => Err(foreign(bytes, Command::Fixed)),
        };
    }
    match parse_u64(bytes) {
        Some(count) if count <= i64::MAX as u64 => Ok(count),
        Some(_) => Err(StateError::OutOfRange),
        // 20+ digits that overflow are still a count, just out of range.
        None if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) => Err(StateError::OutOfRange),
        None => Err(foreign(bytes, Command::Fixed)),
    }
}

pub fn encode(count: u64) -> Buf {
    let mut buf = Buf::default();
    push_decimal(&mut buf, u128::from(count));
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_incr_and_set_write() {
        assert_eq!(decode(b"0"), Ok(0));
        assert_eq!(decode(b"42"), Ok(42));
        assert_eq!(decode(b"9223372036854775807"), Ok(i64::MAX as u64));
        assert_eq!(encode(42).as_slice(), b"42");
    }

    #[test]
    fn rejects_what_it_cannot_count() {
        assert_eq!(decode(b"-1"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"9223372036854775808"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"99999999999999999999999"), Err(StateError::OutOfRange));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
        assert_eq!(decode(b"1.5"), Err(StateError::Unreadable));
        assert_eq!(decode(b"abc"), Err(StateError::Unreadable));
        assert_eq!(decode(b"\x01\x01\x02\x03\x04"), Err(StateError::OtherCommand(Command::Sliding)));
        assert_eq!(decode(b"\x02\x01\x02\x03"), Err(StateError::OtherCommand(Command::Token)));
        assert_eq!(decode(b"L:\x01"), Err(StateError::OtherCommand(Command::Log)));
    }
}
