//! LEB128 variable-length unsigned integers: 7 bits a byte, low bits first. Small numbers
//! (counts, deltas) take one or two bytes, a millisecond timestamp six.

use super::Buf;

/// Reads one varint at `*off` (before `end`), advancing `*off`; None if it is cut short, does
/// not fit in 128 bits, or is not in its shortest form (a trailing zero byte): re-encoding a
/// value read must give back the same bytes, so rewriting an entry never shrinks it.
#[inline]
pub fn read(bytes: &[u8], off: &mut usize, end: usize) -> Option<u128> {
    let bytes = bytes.get(..end)?;
    // Nine bytes carry 63 bits: accumulate in a u64, the common case.
    let mut value = 0u64;
    for shift in (0..63).step_by(7) {
        let b = *bytes.get(*off)?;
        *off += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (b != 0 || shift == 0).then_some(u128::from(value));
        }
    }
    let mut value = u128::from(value);
    for shift in (63..128).step_by(7) {
        let b = *bytes.get(*off)?;
        *off += 1;
        let bits = u128::from(b & 0x7f);
        if bits.leading_zeros() < shift {
            return None;
        }
        value |= bits << shift;
        if b & 0x80 == 0 {
            return (b != 0).then_some(value);
        }
    }
    None
}

/// Reads one varint that must fit in 64 bits.
pub fn read_u64(bytes: &[u8], off: &mut usize, end: usize) -> Option<u64> {
    read(bytes, off, end).and_then(|v| u64::try_from(v).ok())
}

#[inline]
pub fn push(buf: &mut Buf, mut value: u128) {
    loop {
        // value & 0x7f < 128: the cast keeps every bit.
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            buf.push(low);
            return;
        }
        buf.push(low | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_magnitude() {
        for v in [0, 1, 127, 128, 300, u128::from(u64::MAX / 3), u128::from(u64::MAX), u128::MAX] {
            let mut b = Buf::default();
            push(&mut b, v);
            let mut off = 0;
            assert_eq!(read(b.as_slice(), &mut off, b.as_slice().len()), Some(v));
            assert_eq!(off, b.as_slice().len());
        }
    }

    #[test]
    fn rejects_non_canonical_forms() {
        assert_eq!(read(&[0xdf, 0x00], &mut 0, 2), None);
        assert_eq!(read(&[0x80, 0x00], &mut 0, 2), None);
        assert_eq!(read(&[0x00], &mut 0, 1), Some(0));
        assert_eq!(read(&[0x80, 0x01], &mut 0, 2), Some(128));
    }

    #[test]
    fn rejects_cut_or_oversized_input() {
        assert_eq!(read(&[0x80, 0x80], &mut 0, 2), None);
        assert_eq!(read(&[0xff; 19], &mut 0, 19), None);
        assert_eq!(
            read(
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                &mut 0,
                19
            ),
            None
        );
        let mut b = Buf::default();
        push(&mut b, u128::from(u64::MAX) + 1);
        assert_eq!(read_u64(b.as_slice(), &mut 0, b.as_slice().len()), None);
    }
}
