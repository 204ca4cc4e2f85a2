//! RL.LEAKY's stored value: the tag byte 0x03, then varints: the rate the drain time is
//! expressed in, and the drain time in units of 1/rate ms (up to 128 bits). About 9 bytes.

use super::{foreign, varint, Buf, StateError};
use crate::algo::leaky::LeakyState;
use crate::command::Command;

pub const TAG: u8 = 0x03;

pub fn decode(bytes: &[u8]) -> Result<LeakyState, StateError> {
    let [TAG, body @ ..] = bytes else { return Err(foreign(bytes, Command::Leaky)) };
    let mut off = 0;
    let mut next = || varint::read(body, &mut off, body.len()).ok_or(StateError::Unreadable);
    let (rate, drain) = (next()?, next()?);
    if off != body.len() {
        return Err(StateError::Unreadable);
    }
    let rate = u64::try_from(rate).ok().filter(|r| (1..=i64::MAX as u64).contains(r)).ok_or(StateError::OutOfRange)?;
    Ok(LeakyState { rate, drain })
}

pub fn encode(s: &LeakyState) -> Buf {
    let mut buf = Buf::default();
    buf.push(TAG);
    varint::push(&mut buf, s.rate.into());
    varint::push(&mut buf, s.drain);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_about_nine_bytes() {
        let s = LeakyState { rate: 3, drain: 1_732_280_400_123 * 3 };
        assert_eq!(encode(&s).as_slice().len(), 1 + 1 + 7);
        assert_eq!(decode(encode(&s).as_slice()), Ok(s));
        let max = LeakyState { rate: i64::MAX as u64, drain: u128::MAX };
        assert_eq!(decode(encode(&max).as_slice()), Ok(max));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(&[TAG, 0, 5]), Err(StateError::OutOfRange));
        assert_eq!(decode(&[TAG, 1]), Err(StateError::Unreadable));
        assert_eq!(decode(&[TAG, 1, 5, 0]), Err(StateError::Unreadable));
        assert_eq!(decode(&[super::super::token::TAG, 1, 0, 0]), Err(StateError::OtherCommand(Command::Token)));
        assert_eq!(decode(b"12"), Err(StateError::OtherCommand(Command::Fixed)));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
    }
}
