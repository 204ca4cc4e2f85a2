//! RL.SLIDING's stored value: `S:<window>:<start>:<prev>:<cur>` (decimal), the window length
//! the counters were kept with, the start of the window `cur` counts, and the two counters.

use super::text::{fields, write_fields};
use super::{foreign, Buf, Kind, StateError};
use crate::algo::sliding::SlidingState;

const TAG: &[u8] = b"S:";

pub fn decode(bytes: &[u8]) -> Result<SlidingState, StateError> {
    let [window, start, prev, cur] = fields::<4>(bytes, TAG).ok_or_else(|| foreign(bytes, Kind::Sliding))?;
    let int = |v: u128| u64::try_from(v).ok().filter(|v| *v <= i64::MAX as u64).ok_or(StateError::OutOfRange);
    let state = SlidingState { window: int(window)?, start: int(start)?, prev: int(prev)?, cur: int(cur)? };
    if state.window == 0 {
        return Err(StateError::OutOfRange);
    }
    Ok(state)
}

pub fn encode(s: &SlidingState) -> Buf {
    write_fields(TAG, &[s.window.into(), s.start.into(), s.prev.into(), s.cur.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = SlidingState { window: 60_000, start: 1_732_280_400_000, prev: 3, cur: 5 };
        assert_eq!(encode(&s).as_slice(), b"S:60000:1732280400000:3:5");
        assert_eq!(decode(encode(&s).as_slice()), Ok(s));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(b"S:0:0:0:0"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"S:1:0:0:9223372036854775808"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"S:1:0:0"), Err(StateError::Unreadable));
        assert_eq!(decode(b"S:1:0:-1:0"), Err(StateError::Unreadable));
        assert_eq!(decode(b"7"), Err(StateError::OtherCommand(Kind::Fixed)));
        assert_eq!(decode(b"T:1:0:0"), Err(StateError::OtherCommand(Kind::Token)));
    }
}
