//! RL.TOKEN's stored value: the tag byte 0x02, then varints: the period the deficit is
//! expressed in, the time of the last update, and the deficit in 1/period tokens (up to 128
//! bits). About 12 bytes: the value fits Redis's smallest allocation.

use super::{foreign, varint, Buf, StateError};
use crate::algo::token::TokenState;
use crate::command::Command;

pub const TAG: u8 = 0x02;

pub fn decode(bytes: &[u8]) -> Result<TokenState, StateError> {
    let [TAG, body @ ..] = bytes else { return Err(foreign(bytes, Command::Token)) };
    let mut off = 0;
    let mut next = || varint::read(body, &mut off, body.len()).ok_or(StateError::Unreadable);
    let (period, at, owed) = (next()?, next()?, next()?);
    if off != body.len() {
        return Err(StateError::Unreadable);
    }
    let int = |v: u128| u64::try_from(v).ok().filter(|v| *v <= i64::MAX as u64).ok_or(StateError::OutOfRange);
    let period = int(period)?;
    if period == 0 {
        return Err(StateError::OutOfRange);
    }
    Ok(TokenState { period, at: int(at)?, owed })
}

pub fn encode(s: &TokenState) -> Buf {
    let mut buf = Buf::default();
    buf.push(TAG);
    varint::push(&mut buf, s.period.into());
    varint::push(&mut buf, s.at.into());
    varint::push(&mut buf, s.owed);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_about_twelve_bytes() {
        let s = TokenState { period: 1000, at: 1_732_280_400_123, owed: 5000 };
        assert_eq!(encode(&s).as_slice().len(), 1 + 2 + 6 + 2);
        assert_eq!(decode(encode(&s).as_slice()), Ok(s));
        let max = TokenState { period: i64::MAX as u64, at: i64::MAX as u64, owed: u128::MAX };
        assert_eq!(decode(encode(&max).as_slice()), Ok(max));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(&[TAG, 0, 0, 0]), Err(StateError::OutOfRange));
        assert_eq!(decode(&[TAG, 1, 0]), Err(StateError::Unreadable));
        assert_eq!(decode(&[TAG, 1, 0, 0, 0]), Err(StateError::Unreadable));
        assert_eq!(decode(&[super::super::sliding::TAG, 1, 0, 0, 0]), Err(StateError::OtherCommand(Command::Sliding)));
        assert_eq!(decode(b"12"), Err(StateError::OtherCommand(Command::Fixed)));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
    }
}
