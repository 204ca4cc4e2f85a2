//! RL.SLIDING's stored value: the tag byte 0x01, then varints: the window length the counters
//! were kept with, the index of the window `cur` counts (its start / window: windows are
//! epoch-aligned), and the two counters. About 10 bytes: the value fits Redis's smallest
//! allocation, and it decodes in a few nanoseconds.

use super::{foreign, varint, Buf, StateError};
use crate::algo::sliding::SlidingState;
use crate::command::Command;

pub const TAG: u8 = 0x01;

pub fn decode(bytes: &[u8]) -> Result<SlidingState, StateError> {
    let [TAG, body @ ..] = bytes else { return Err(foreign(bytes, Command::Sliding)) };
    let mut off = 0;
    let mut next = || varint::read(body, &mut off, body.len()).ok_or(StateError::Unreadable);
    let (window, index, prev, cur) = (next()?, next()?, next()?, next()?);
    if off != body.len() {
        return Err(StateError::Unreadable);
    }
    let int = |v: u128| u64::try_from(v).ok().filter(|v| *v <= i64::MAX as u64).ok_or(StateError::OutOfRange);
    // Counters may exceed 2^63-1: two stored windows folded into one (after a window change)
    // add up. The arithmetic is 128-bit, so any 64-bit count is fine.
    let count = |v: u128| u64::try_from(v).map_err(|_| StateError::OutOfRange);
    let window = int(window).and_then(|w| if w == 0 { Err(StateError::OutOfRange) } else { Ok(w) })?;
    let start = int(index.checked_mul(u128::from(window)).ok_or(StateError::OutOfRange)?)?;
    Ok(SlidingState { window, start, prev: count(prev)?, cur: count(cur)? })
}

pub fn encode(s: &SlidingState) -> Buf {
    let mut buf = Buf::default();
    buf.push(TAG);
    varint::push(&mut buf, s.window.into());
    varint::push(&mut buf, (s.start / s.window.max(1)).into());
    varint::push(&mut buf, s.prev.into());
    varint::push(&mut buf, s.cur.into());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_about_ten_bytes() {
        let s = SlidingState { window: 60_000, start: 1_732_280_400_000, prev: 3, cur: 5 };
        let bytes = encode(&s);
        assert_eq!(bytes.as_slice().len(), 1 + 3 + 4 + 1 + 1);
        assert_eq!(decode(bytes.as_slice()), Ok(s));
        let max = SlidingState { window: i64::MAX as u64, start: 0, prev: u64::MAX, cur: u64::MAX };
        assert_eq!(decode(encode(&max).as_slice()), Ok(max));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(&[TAG, 0, 0, 0, 0]), Err(StateError::OutOfRange));
        assert_eq!(decode(&[TAG, 10, 0, 0]), Err(StateError::Unreadable));
        assert_eq!(decode(&[TAG, 10, 0, 0, 0, 0]), Err(StateError::Unreadable));
        assert_eq!(decode(&[TAG, 10, 0x80]), Err(StateError::Unreadable));
        // start = index * window beyond 2^63-1.
        assert_eq!(decode(&[TAG, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]), Err(StateError::OutOfRange));
        assert_eq!(decode(b"7"), Err(StateError::OtherCommand(Command::Fixed)));
        assert_eq!(decode(&[super::super::token::TAG, 1, 0, 0]), Err(StateError::OtherCommand(Command::Token)));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
    }
}
