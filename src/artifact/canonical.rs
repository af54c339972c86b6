//! The canonical encoding the fingerprint hashes: compact JSON, object keys sorted bytewise,
//! numbers as serde_json writes them (shortest round-trip floats, non-finite floats as `null`).
//!
//! It is produced straight from the typed content by a serde `Serializer`, with no
//! `serde_json::Value` in between. Bytes are appended as they come and the encoding is the
//! concatenation of a list of segments (ranges of those bytes): an object whose keys arrived out
//! of order is put in order by reordering its entries' segments, so no byte is moved, however
//! deeply the out-of-order objects nest (a tree ensemble's trees sit three objects deep). The
//! bytes are exactly those of `serde_json::to_value` followed by a sorted compact write (the
//! test module keeps that reference and compares).

use std::ops::Range;

use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use sha2::{Digest, Sha256};

type Error = serde_json::Error;

/// The canonical encoding of `value`.
#[cfg(test)]
pub(crate) fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    append(value, &mut out, 1 << 16)?;
    Ok(out)
}

/// Append the canonical encoding of `value` to `out`; `size_hint` as for [`sha256`].
pub(crate) fn append<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>, size_hint: usize) -> Result<(), Error> {
    let ser = Canonical::encode(value, size_hint)?;
    out.reserve(ser.out.len());
    for seg in &ser.segs {
        out.extend_from_slice(&ser.out[seg.clone()]);
    }
    Ok(())
}

/// SHA-256 of the canonical encoding of `value`. `size_hint` (bytes) sizes the buffer: the
/// length of the file the value was read from, where there is one.
pub(crate) fn sha256<T: Serialize + ?Sized>(value: &T, size_hint: usize) -> Result<[u8; 32], Error> {
    let ser = Canonical::encode(value, size_hint)?;
    let mut hasher = Sha256::new();
    ser.hash_into(&mut hasher);
    Ok(hasher.finalize().into())
}

struct Canonical {
    /// Every byte written, in the order written.
    out: Vec<u8>,
    /// The encoding: these ranges of `out`, in order. The bytes after `open` are not in it yet.
    segs: Vec<Range<usize>>,
    /// Start of the segment being written.
    open: usize,
    /// Where a lone `,` lies in `out` (written once, on the first reordering).
    comma: Option<usize>,
}

impl Canonical {
    fn encode<T: Serialize + ?Sized>(value: &T, size_hint: usize) -> Result<Self, Error> {
        let mut ser = Canonical { out: Vec::with_capacity(size_hint.max(64)), segs: Vec::new(), open: 0, comma: None };
        value.serialize(&mut ser)?;
        ser.cut();
        Ok(ser)
    }
    fn hash_into(&self, hasher: &mut Sha256) {
        // Consecutive segments are usually adjacent in the buffer: hash each run in one call.
        let mut run: Option<Range<usize>> = None;
        for seg in &self.segs {
            match &mut run {
                Some(r) if r.end == seg.start => r.end = seg.end,
                _ => {
                    if let Some(r) = run.replace(seg.clone()) {
                        hasher.update(&self.out[r]);
                    }
                }
            }
        }
        if let Some(r) = run {
            hasher.update(&self.out[r]);
        }
    }
    /// Close the open segment; the index of the next segment.
    fn cut(&mut self) -> usize {
        if self.out.len() > self.open {
            self.segs.push(self.open..self.out.len());
            self.open = self.out.len();
        }
        self.segs.len()
    }
    fn comma(&mut self) -> Range<usize> {
        let at = match self.comma {
            Some(at) => at,
            None => {
                self.cut();
                let at = self.out.len();
                self.out.push(b',');
                self.open = self.out.len();
                self.comma = Some(at);
                at
            }
        };
        at..at + 1
    }
    fn string(&mut self, s: &str) {
        // serde_json escapes only `"`, `\` and control characters; anything else is copied.
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
        } else {
            serde_json::to_writer(&mut self.out, s).expect("writing a string to a Vec cannot fail");
        }
    }
    fn f64(&mut self, v: f64) {
        if v.is_finite() {
            CompactFormatter.write_f64(&mut self.out, v).expect("writing to a Vec cannot fail");
        } else {
            self.out.extend_from_slice(b"null");
        }
    }
    fn object(&mut self) -> Object<'_> {
        self.out.push(b'{');
        let start = self.cut();
        Object { ser: self, start, entries: Vec::new(), sorted: true, key: None }
    }
    /// `{"variant":` ... `}` around an externally tagged variant's value.
    fn variant_open(&mut self, variant: &str) {
        self.out.push(b'{');
        self.string(variant);
        self.out.push(b':');
    }
}

/// One written entry of an object: its key, and the segments holding `"key":value`.
struct Entry {
    key: std::borrow::Cow<'static, str>,
    segs: Range<usize>,
}

struct Object<'a> {
    ser: &'a mut Canonical,
    /// Index of the object's first segment (just after the `{`).
    start: usize,
    entries: Vec<Entry>,
    /// Whether the keys so far arrived in ascending order (then the segments are already final).
    sorted: bool,
    /// A map key waiting for its value.
    key: Option<String>,
}

impl<'a> Object<'a> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: std::borrow::Cow<'static, str>, value: &T) -> Result<(), Error> {
        if let Some(last) = self.entries.last() {
            self.sorted &= last.key.as_bytes() < key.as_bytes();
            self.ser.out.push(b',');
        }
        let from = self.ser.cut();
        self.ser.string(&key);
        self.ser.out.push(b':');
        value.serialize(&mut *self.ser)?;
        let to = self.ser.cut();
        self.entries.push(Entry { key, segs: from..to });
        Ok(())
    }

    /// Close the object (reordering its entries' segments if they came out of order); gives
    /// back the writer.
    fn finish(mut self) -> Result<&'a mut Canonical, Error> {
        if !self.sorted {
            let comma = self.ser.comma();
            self.entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
            let segs = &self.ser.segs;
            let mut ordered = Vec::with_capacity(segs.len() - self.start + self.entries.len());
            for (i, e) in self.entries.iter().enumerate() {
                if i > 0 {
                    ordered.push(comma.clone());
                }
                ordered.extend_from_slice(&segs[e.segs.clone()]);
            }
            self.ser.segs.truncate(self.start);
            self.ser.segs.extend(ordered);
        }
        self.ser.out.push(b'}');
        Ok(self.ser)
    }
}

/// A map key as serde_json's `Value` encoding would spell it.
fn key_string<T: Serialize + ?Sized>(key: &T) -> Result<String, Error> {
    match serde_json::to_value(key)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ser::Error::custom("key must be a string")),
    }
}

struct Array<'a> {
    ser: &'a mut Canonical,
    first: bool,
    /// Closes an externally tagged tuple variant's wrapping object too.
    variant: bool,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.ser.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.ser)
    }
    fn finish(self) -> Result<(), Error> {
        self.ser.out.push(b']');
        if self.variant {
            self.ser.out.push(b'}');
        }
        Ok(())
    }
}

/// A struct variant: its fields as a sorted object inside `{"variant": ...}`.
struct VariantObject<'a>(Object<'a>);

impl<'a> ser::Serializer for &'a mut Canonical {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = VariantObject<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        CompactFormatter.write_i64(&mut self.out, v).map_err(Error::io)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // As `Value` holds it: an i64 or u64 number, or an error.
        if let Ok(v) = i64::try_from(v) {
            self.serialize_i64(v)
        } else if let Ok(v) = u64::try_from(v) {
            self.serialize_u64(v)
        } else {
            Err(ser::Error::custom("number out of range"))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        CompactFormatter.write_u64(&mut self.out, v).map_err(Error::io)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        u64::try_from(v).map_err(|_| ser::Error::custom("number out of range")).and_then(|v| self.serialize_u64(v))
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // `Value` widens an f32 to an f64 number.
        self.f64(f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.f64(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_open(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, Error> {
        self.out.push(b'[');
        Ok(Array { ser: self, first: true, variant: false })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Array<'a>, Error> {
        self.variant_open(variant);
        self.out.push(b'[');
        Ok(Array { ser: self, first: true, variant: true })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(self.object())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'a>, Error> {
        Ok(self.object())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantObject<'a>, Error> {
        self.variant_open(variant);
        Ok(VariantObject(self.object()))
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Array<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_string(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| ser::Error::custom("map value without a key"))?;
        self.entry(key.into(), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish().map(|_| ())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.entry(key.into(), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish().map(|_| ())
    }
}

impl ser::SerializeStructVariant for VariantObject<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.0.entry(key.into(), value)
    }
    fn end(self) -> Result<(), Error> {
        // Close the fields' object, then the variant's wrapping one.
        self.0.finish()?.out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::to_canonical;
    use crate::artifact::Content;

    /// The definition the fingerprint was first computed by: the content as a `Value`, written
    /// compactly with object keys sorted.
    fn reference<T: serde::Serialize>(v: &T) -> Vec<u8> {
        fn write(v: &Value, out: &mut Vec<u8>) {
            match v {
                Value::Object(map) => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    out.push(b'{');
                    for (i, k) in keys.into_iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        serde_json::to_writer(&mut *out, k).unwrap();
                        out.push(b':');
                        write(&map[k], out);
                    }
                    out.push(b'}');
                }
                Value::Array(items) => {
                    out.push(b'[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        write(item, out);
                    }
                    out.push(b']');
                }
                scalar => serde_json::to_writer(&mut *out, scalar).unwrap(),
            }
        }
        let mut out = Vec::new();
        write(&serde_json::to_value(v).unwrap(), &mut out);
        out
    }

    fn same<T: serde::Serialize>(v: &T) {
        let got = to_canonical(v).unwrap();
        let want = reference(v);
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
    }

    #[test]
    fn values_encode_like_the_reference() {
        same(&json!({"b": 1, "a": [1.5, -0.0, 1e300, 5e-324, 1.0, -7, 18446744073709551615u64], "é": "x\"\\\n\u{1}\u{7f}ü", "": null}));
        same(&json!({"z": {"y": {"x": [], "w": {}}, "a": true}, "m": [{"b": 1, "a": 2}, "s"]}));
        same(&json!([0.1, 0.30000000000000004, 123456789012345680000.0, -1e-7]));
        same(&f64::NAN);
        same(&f32::MIN_POSITIVE);
        same(&(0.1f32, 'c', (), Some(3u8), None::<i32>, i64::MIN));
    }

    #[test]
    fn every_golden_artifact_encodes_like_the_reference() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut n = 0;
        for dir in std::fs::read_dir(root).unwrap() {
            let path = dir.unwrap().path().join("model.kiln");
            if !path.exists() {
                continue;
            }
            let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let content: Content = serde_json::from_value(doc["content"].clone()).unwrap();
            same(&content);
            n += 1;
        }
        assert!(n >= 4, "golden artifacts found: {n}");
    }

    #[test]
    fn enum_shapes_encode_like_the_reference() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        enum E {
            Unit,
            New(f64),
            Tuple(u8, String),
            Struct { zeta: u8, alpha: Vec<f64> },
        }
        #[derive(serde::Serialize)]
        #[serde(tag = "kind")]
        enum Tagged {
            Item { value: f64, name: String },
        }
        same(&vec![E::Unit, E::New(2.0), E::Tuple(1, "t".into()), E::Struct { zeta: 1, alpha: vec![0.5] }]);
        same(&Tagged::Item { value: 1.0, name: "n".into() });
        same(&std::collections::BTreeMap::from([("b", 1), ("a", 2)]));
        same(&std::collections::HashMap::from([(3u32, "x"), (1u32, "y"), (20u32, "z")]));
    }
}
