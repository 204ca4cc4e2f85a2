//! RL.TOKEN's stored value: `T:<period>:<at>:<owed>` (decimal): the period the deficit is
//! expressed in, the time of the last update, and the deficit in 1/period tokens.

use super::text::{fields, write_fields};
use super::{foreign, Buf, Kind, StateError};
use crate::algo::token::TokenState;

const TAG: &[u8] = b"T:";

pub fn decode(bytes: &[u8]) -> Result<TokenState, StateError> {
    let [period, at, owed] = fields::<3>(bytes, TAG).ok_or_else(|| foreign(bytes, Kind::Token))?;
    let int = |v: u128| u64::try_from(v).ok().filter(|v| *v <= i64::MAX as u64).ok_or(StateError::OutOfRange);
    let state = TokenState { period: int(period)?, at: int(at)?, owed };
    if state.period == 0 {
        return Err(StateError::OutOfRange);
    }
    Ok(state)
}

pub fn encode(s: &TokenState) -> Buf {
    write_fields(TAG, &[s.period.into(), s.at.into(), s.owed])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = TokenState { period: 1000, at: 1_732_280_400_123, owed: 5000 };
        assert_eq!(encode(&s).as_slice(), b"T:1000:1732280400123:5000");
        assert_eq!(decode(encode(&s).as_slice()), Ok(s));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(decode(b"T:0:0:0"), Err(StateError::OutOfRange));
        assert_eq!(decode(b"T:1:0"), Err(StateError::Unreadable));
        assert_eq!(decode(b"S:1:0:0:0"), Err(StateError::OtherCommand(Kind::Sliding)));
        assert_eq!(decode(b"12"), Err(StateError::OtherCommand(Kind::Fixed)));
        assert_eq!(decode(b""), Err(StateError::Unreadable));
    }
}
