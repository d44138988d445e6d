//! Value types that Thrift has and Rust's standard library lacks.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Thrift's `uuid`: 16 bytes in RFC 4122 (big-endian) order, as they travel on the wire.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid([u8; 16]);

impl Uuid {
    pub const NIL: Uuid = Uuid([0; 16]);

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Uuid {
    /// The hyphenated lower-case form, `00112233-4455-6677-8899-aabbccddeeff`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// The error of parsing a [`Uuid`] from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseUuidError(String);

impl fmt::Display for ParseUuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid uuid {:?}: expected 32 hex digits, optionally hyphenated 8-4-4-4-12, optionally in braces", self.0)
    }
}

impl std::error::Error for ParseUuidError {}

impl FromStr for Uuid {
    type Err = ParseUuidError;

    /// Accepts `00112233-4455-6677-8899-aabbccddeeff`, the same without hyphens, and either in
    /// braces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseUuidError(s.to_owned());
        let inner = s
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(s);
        let hex: Vec<u8> = if inner.len() == 36 {
            let b = inner.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                return Err(err());
            }
            b.iter().copied().filter(|&c| c != b'-').collect()
        } else {
            inner.as_bytes().to_vec()
        };
        if hex.len() != 32 {
            return Err(err());
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16).ok_or_else(err);
            out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Ok(Uuid(out))
    }
}

/// An `f64` with a total order (IEEE 754 `totalOrder`), for `double` set elements and map keys,
/// where Rust's collections need `Ord`. Equality is bitwise-by-order: `NaN == NaN`, `-0.0 != 0.0`.
#[derive(Clone, Copy, Default)]
pub struct OrderedF64(pub f64);

impl PartialEq for OrderedF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for OrderedF64 {}

impl PartialOrd for OrderedF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Hash for OrderedF64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

impl fmt::Debug for OrderedF64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<f64> for OrderedF64 {
    fn from(v: f64) -> Self {
        OrderedF64(v)
    }
}

impl From<OrderedF64> for f64 {
    fn from(v: OrderedF64) -> Self {
        v.0
    }
}

/// A total order for generated types that are used as set elements or map keys but hold
/// `double`s, which Rust cannot derive `Ord` for. Generated code implements `Ord` through it.
pub trait TotalOrd {
    fn total_cmp(&self, other: &Self) -> Ordering;
}

macro_rules! total_ord_via_ord {
    ($($t:ty),*) => {$(
        impl TotalOrd for $t {
            fn total_cmp(&self, other: &Self) -> Ordering {
                Ord::cmp(self, other)
            }
        }
    )*};
}

total_ord_via_ord!(
    bool,
    i8,
    i16,
    i32,
    i64,
    String,
    bytes::Bytes,
    Uuid,
    OrderedF64
);

impl TotalOrd for f64 {
    fn total_cmp(&self, other: &Self) -> Ordering {
        f64::total_cmp(self, other)
    }
}

impl<T: TotalOrd> TotalOrd for Option<T> {
    fn total_cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.total_cmp(b),
        }
    }
}

impl<T: TotalOrd> TotalOrd for Box<T> {
    fn total_cmp(&self, other: &Self) -> Ordering {
        (**self).total_cmp(other)
    }
}

impl<T: TotalOrd> TotalOrd for Vec<T> {
    fn total_cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.iter().zip(other) {
            match a.total_cmp(b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.len().cmp(&other.len())
    }
}

impl<T: TotalOrd> TotalOrd for std::collections::BTreeSet<T> {
    fn total_cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.iter().zip(other) {
            match a.total_cmp(b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.len().cmp(&other.len())
    }
}

impl<K: TotalOrd, V: TotalOrd> TotalOrd for std::collections::BTreeMap<K, V> {
    fn total_cmp(&self, other: &Self) -> Ordering {
        for ((ka, va), (kb, vb)) in self.iter().zip(other) {
            match ka.total_cmp(kb).then_with(|| va.total_cmp(vb)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.len().cmp(&other.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_parses_and_prints_every_form() {
        let text = "00112233-4455-6677-8899-aabbccddeeff";
        let u: Uuid = text.parse().unwrap();
        assert_eq!(u.to_string(), text);
        assert_eq!(
            "{00112233445566778899AABBCCDDEEFF}"
                .parse::<Uuid>()
                .unwrap(),
            u
        );
        assert_eq!(u.as_bytes()[0], 0x00);
        assert_eq!(u.as_bytes()[15], 0xff);
        assert!("0011-2233".parse::<Uuid>().is_err());
        assert!("00112233x4455-6677-8899-aabbccddeeff"
            .parse::<Uuid>()
            .is_err());
        assert!("g0112233445566778899aabbccddeeff".parse::<Uuid>().is_err());
    }

    #[test]
    fn ordered_f64_orders_totally() {
        let mut v = [
            OrderedF64(1.0),
            OrderedF64(f64::NAN),
            OrderedF64(-0.0),
            OrderedF64(0.0),
        ];
        v.sort();
        assert_eq!(v[0].0.to_bits(), (-0.0f64).to_bits());
        assert_eq!(v[1].0.to_bits(), 0.0f64.to_bits());
        assert_eq!(v[2].0, 1.0);
        assert!(v[3].0.is_nan());
        assert_eq!(OrderedF64(f64::NAN), OrderedF64(f64::NAN));
    }
}
