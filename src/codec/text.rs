//! Decimal text fields, parsed strictly and formatted without allocating.

use super::Buf;

/// A strict unsigned decimal: digits only, at least one, no sign, no spaces.
pub fn parse_u128(bytes: &[u8]) -> Option<u128> {
    if bytes.is_empty() || bytes.len() > 39 {
        return None;
    }
    bytes.iter().try_fold(0u128, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u128::from(digit))
    })
}

pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    parse_u128(bytes).and_then(|v| u64::try_from(v).ok())
}

/// Appends `value` in decimal.
pub fn push_decimal(buf: &mut Buf, mut value: u128) {
    let mut digits = [0u8; 39];
    let mut at = digits.len();
    loop {
        at -= 1;
        // value % 10 < 10, so the cast cannot truncate.
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || at == 0 {
            break;
        }
    }
    buf.extend(digits.get(at..).unwrap_or_default());
}

/// Splits `bytes` after `tag` into exactly `N` colon-separated unsigned integers.
pub fn fields<const N: usize>(bytes: &[u8], tag: &[u8]) -> Option<[u128; N]> {
    let rest = bytes.strip_prefix(tag)?;
    let mut out = [0u128; N];
    let mut parts = rest.split(|b| *b == b':');
    for slot in out.iter_mut() {
        *slot = parse_u128(parts.next()?)?;
    }
    parts.next().is_none().then_some(out)
}

/// Writes `tag` then the fields, colon-separated.
pub fn write_fields(tag: &[u8], values: &[u128]) -> Buf {
    let mut buf = Buf::default();
    buf.extend(tag);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.extend(b":");
        }
        push_decimal(&mut buf, *v);
    }
    buf
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
    }

    #[test]
    fn fields_round_trip() {
        let b = write_fields(b"T:", &[1000, 0, u128::MAX]);
        assert_eq!(b.as_slice(), b"T:1000:0:340282366920938463463374607431768211455");
        assert_eq!(fields::<3>(b.as_slice(), b"T:"), Some([1000, 0, u128::MAX]));
        assert_eq!(fields::<3>(b"T:1:2", b"T:"), None);
        assert_eq!(fields::<3>(b"T:1:2:3:4", b"T:"), None);
        assert_eq!(fields::<3>(b"T:1::3", b"T:"), None);
    }
}
