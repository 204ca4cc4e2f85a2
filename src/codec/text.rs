//! Decimal text (RL.FIXED's count, arguments), parsed strictly and formatted in place.

use super::Buf;

/// A strict unsigned decimal: digits only, at least one, no sign, no spaces.
pub fn parse_u128(bytes: &[u8]) -> Option<u128> {
    if bytes.is_empty() || bytes.len() > 39 {
        return None;
    }
    // Up to 19 digits fit in a u64: accumulate there (128-bit multiplication costs more), and
    // continue in 128 bits only for the rare longer numbers.
    let (head, tail) = bytes.split_at(bytes.len().min(19));
    let head = head.iter().try_fold(0u64, |acc, &b| Some(acc * 10 + u64::from(digit(b)?)))?;
    tail.iter().try_fold(u128::from(head), |acc, &b| acc.checked_mul(10)?.checked_add(u128::from(digit(b)?)))
}

fn digit(b: u8) -> Option<u8> {
    b.checked_sub(b'0').filter(|d| *d <= 9)
}

pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    parse_u128(bytes).and_then(|v| u64::try_from(v).ok())
}

/// Appends `value` in decimal.
pub fn push_decimal(buf: &mut Buf, value: u128) {
    // 128-bit division by 10 is a library call per digit: split into u64 halves once.
    const TEN_POW_19: u128 = 10_000_000_000_000_000_000;
    match u64::try_from(value) {
        Ok(small) => push_u64(buf, small, 0),
        Err(_) => {
            push_decimal(buf, value / TEN_POW_19);
            // value % 10^19 < 10^19 < 2^64.
            push_u64(buf, (value % TEN_POW_19) as u64, 19);
        }
    }
}

/// Appends `value` in decimal, zero-padded to `width` digits, written in place.
fn push_u64(buf: &mut Buf, mut value: u64, width: usize) {
    let mut n = 1;
    let mut bound = 10u64;
    while n < 20 && value >= bound {
        n += 1;
        bound = bound.saturating_mul(10);
    }
    let slot = buf.append_slot(n.max(width));
    for d in slot.iter_mut().rev() {
        // value % 10 < 10: the cast cannot truncate.
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strictly() {
        assert_eq!(parse_u128(b"0"), Some(0));
        assert_eq!(parse_u128(b"340282366920938463463374607431768211455"), Some(u128::MAX));
        assert_eq!(parse_u128(b"340282366920938463463374607431768211456"), None);
        for bad in [&b""[..], b"-1", b"+1", b" 1", b"1 ", b"1.0", b"x"] {
            assert_eq!(parse_u128(bad), None, "{bad:?}");
        }
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u128(b"99999999999999999999"), Some(99_999_999_999_999_999_999));
        assert_eq!(parse_u128(b"0000000000000000000000007"), Some(7));
    }

    #[test]
    fn formats_every_magnitude() {
        for v in [
            0u128,
            7,
            10,
            1_000_000_000_000_000_000,
            10_000_000_000_000_000_000,
            10_000_000_000_000_000_001,
            u128::from(u64::MAX),
            u128::MAX,
        ] {
            let mut b = Buf::default();
            push_decimal(&mut b, v);
            assert_eq!(b.as_slice(), v.to_string().as_bytes());
        }
    }
}
