//! RL.CONCURRENT's stored leases: a Redis sorted set, member = the holder's id, score = its
//! lease's expiry in ms since the Unix epoch, so `ZRANGE key 0 -1 WITHSCORES` lists the
//! holders and when each lease ends. A score is a double: an expiry is a whole number of
//! milliseconds from 0 to 2^53, which a double holds exactly.

use super::StateError;
use crate::algo::concurrent::MAX_EXPIRY;
use crate::algo::Millis;

/// The expiry a stored score stands for; any other score (a fraction, a negative number, past
/// 2^53, an infinity) is not a lease's: the set is someone else's.
pub fn expiry(score: f64) -> Result<Millis, StateError> {
    // MAX_EXPIRY is exact as a double; the comparison holds NaN out too.
    if (0.0..=MAX_EXPIRY as f64).contains(&score) && score.fract() == 0.0 {
        Ok(score as Millis)
    } else {
        Err(StateError::NotLeases)
    }
}

/// The score that stores `expiry` (at most 2^53: exact).
pub fn score(expiry: Millis) -> f64 {
    expiry.min(MAX_EXPIRY) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_whole_milliseconds_up_to_2_53() {
        assert_eq!(expiry(0.0), Ok(0));
        assert_eq!(expiry(1_700_000_000_123.0), Ok(1_700_000_000_123));
        assert_eq!(expiry(9_007_199_254_740_992.0), Ok(MAX_EXPIRY));
        for foreign in [-1.0, 1.5, 9_007_199_254_740_994.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e300] {
            assert_eq!(expiry(foreign), Err(StateError::NotLeases), "{foreign}");
        }
        assert_eq!(score(1_700_000_000_123), 1_700_000_000_123.0);
        assert_eq!(expiry(score(u64::MAX)), Ok(MAX_EXPIRY));
    }
}
