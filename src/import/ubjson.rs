//! A Universal Binary JSON (UBJSON) decoder into `serde_json::Value`, for XGBoost's binary model
//! files (`save_model("m.ubj")`, the default of XGBoost 3).
//!
//! The format (ubjson.org, Draft 12): each value is a one-byte type marker and its payload.
//! `Z` null, `N` no-op, `T`/`F` booleans, `i` int8, `U` uint8, `I` int16, `l` int32, `L` int64,
//! `d` float32, `D` float64 (numbers big-endian), `H` high-precision number and `S` string (a
//! length, itself an integer value, then UTF-8 bytes), `C` one char, `[`..`]` arrays and
//! `{`..`}` objects whose keys are strings without the `S` marker. A container may be
//! "optimized": `$` and a type marker (every element has that type, its marker left out), then
//! `#` and a count (no closing marker); or `#` and a count alone. XGBoost writes its large arrays
//! (split conditions, children, leaf values) as typed containers (`[$d#L<n>`, `[$l#L<n>`,
//! `[$U#L<n>`; `src/common/json.cc`, `UBJWriter`).
//!
//! Every length and count is checked against the bytes left before anything is allocated, so a
//! damaged file is an error, never a huge allocation. Nesting is bounded.

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// Containers nested deeper than this are refused (XGBoost models nest about 8 levels).
const MAX_DEPTH: usize = 128;

/// Decode one UBJSON value from `bytes`; trailing bytes other than no-ops are an error.
pub fn decode(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader { bytes, pos: 0 };
    let v = r.value(0)?;
    while r.pos < bytes.len() && bytes[r.pos] == b'N' {
        r.pos += 1;
    }
    if r.pos != bytes.len() {
        return Err(r.err(format!("{} trailing bytes after the value", bytes.len() - r.pos)));
    }
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::malformed(format!("UBJSON at byte {}: {what}", self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(self.err(format!("needs {n} bytes, {} left (truncated file)", self.bytes.len() - self.pos)));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// The next marker, skipping no-ops.
    fn marker(&mut self) -> Result<u8> {
        loop {
            let m = self.byte()?;
            if m != b'N' {
                return Ok(m);
            }
        }
    }

    /// An integer payload of type `m`, for lengths and counts.
    fn int_of(&mut self, m: u8) -> Result<i64> {
        Ok(match m {
            b'i' => i64::from(i8::from_be_bytes(self.array()?)),
            b'U' => i64::from(self.byte()?),
            b'I' => i64::from(i16::from_be_bytes(self.array()?)),
            b'l' => i64::from(i32::from_be_bytes(self.array()?)),
            b'L' => i64::from_be_bytes(self.array()?),
            other => return Err(self.err(format!("expected an integer type for a length, found marker {:?}", other as char))),
        })
    }

    /// A length or count: an integer value, non-negative.
    fn length(&mut self) -> Result<usize> {
        let m = self.marker()?;
        let n = self.int_of(m)?;
        usize::try_from(n).map_err(|_| self.err(format!("negative length {n}")))
    }

    fn string_payload(&mut self) -> Result<String> {
        let n = self.length()?;
        let raw = self.take(n)?;
        std::str::from_utf8(raw).map(str::to_owned).map_err(|e| self.err(format!("string is not UTF-8: {e}")))
    }

    fn float(&self, x: f64) -> Result<Value> {
        // JSON has no NaN or infinity; XGBoost writes them only where kiln does not read numbers.
        Number::from_f64(x).map(Value::Number).ok_or_else(|| self.err(format!("non-finite number {x} cannot be represented")))
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        let m = self.marker()?;
        self.payload(m, depth)
    }

    /// The payload of a value whose marker `m` was already read (or given by a typed container).
    fn payload(&mut self, m: u8, depth: usize) -> Result<Value> {
        Ok(match m {
            b'Z' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' | b'U' | b'I' | b'l' | b'L' => Value::from(self.int_of(m)?),
            b'd' => {
                let x = f32::from_be_bytes(self.array()?);
                self.float(f64::from(x))?
            }
            b'D' => {
                let x = f64::from_be_bytes(self.array()?);
                self.float(x)?
            }
            b'H' => {
                let s = self.string_payload()?;
                let n: Number = s.parse().map_err(|_| self.err(format!("high-precision number '{s}' does not parse")))?;
                Value::Number(n)
            }
            b'C' => Value::String(char::from(self.byte()?).to_string()),
            b'S' => Value::String(self.string_payload()?),
            b'[' => self.container(depth, false)?,
            b'{' => self.container(depth, true)?,
            other => return Err(self.err(format!("unknown type marker {:?} (0x{other:02x})", other as char))),
        })
    }

    fn container(&mut self, depth: usize, object: bool) -> Result<Value> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("containers nested deeper than {MAX_DEPTH}")));
        }
        // Optional `$type` then `#count` (a type requires a count).
        let mut elem_type = None;
        let mut count = None;
        if self.bytes.get(self.pos) == Some(&b'$') {
            self.pos += 1;
            let t = self.byte()?;
            if matches!(t, b'N' | b'$' | b'#' | b']' | b'}') {
                return Err(self.err(format!("invalid container element type {:?}", t as char)));
            }
            elem_type = Some(t);
            if self.byte()? != b'#' {
                return Err(self.err("a typed container ('$') must give its count ('#')"));
            }
            count = Some(self.length()?);
        } else if self.bytes.get(self.pos) == Some(&b'#') {
            self.pos += 1;
            count = Some(self.length()?);
        }
        if let Some(n) = count {
            // Each element takes at least one byte unless its type has no payload (Z, T, F):
            // bound the count by the bytes left before reserving memory for it.
            let payload_free = matches!(elem_type, Some(b'Z' | b'T' | b'F'));
            let left = self.bytes.len() - self.pos;
            if !payload_free && n > left {
                return Err(self.err(format!("container claims {n} elements, only {left} bytes left (truncated file)")));
            }
            let reserve = n.min(left.max(1));
            if object {
                let mut map = Map::new();
                for _ in 0..n {
                    let k = self.string_payload()?;
                    let v = match elem_type {
                        Some(t) => self.payload(t, depth + 1)?,
                        None => self.value(depth + 1)?,
                    };
                    map.insert(k, v);
                }
                Ok(Value::Object(map))
            } else {
                let mut items = Vec::with_capacity(reserve);
                for _ in 0..n {
                    items.push(match elem_type {
                        Some(t) => self.payload(t, depth + 1)?,
                        None => self.value(depth + 1)?,
                    });
                }
                Ok(Value::Array(items))
            }
        } else if object {
            let mut map = Map::new();
            loop {
                // Keys are bare strings: a length (with its integer marker), then the bytes.
                match self.bytes.get(self.pos) {
                    Some(b'}') => {
                        self.pos += 1;
                        return Ok(Value::Object(map));
                    }
                    Some(b'N') => self.pos += 1,
                    Some(_) => {
                        let k = self.string_payload()?;
                        let v = self.value(depth + 1)?;
                        map.insert(k, v);
                    }
                    None => return Err(self.err("object has no closing '}' (truncated file)")),
                }
            }
        } else {
            let mut items = Vec::new();
            loop {
                match self.bytes.get(self.pos) {
                    Some(b']') => {
                        self.pos += 1;
                        return Ok(Value::Array(items));
                    }
                    Some(b'N') => self.pos += 1,
                    Some(_) => items.push(self.value(depth + 1)?),
                    None => return Err(self.err("array has no closing ']' (truncated file)")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_big_endian() {
        assert_eq!(decode(b"Z").unwrap(), Value::Null);
        assert_eq!(decode(b"T").unwrap(), json!(true));
        assert_eq!(decode(b"F").unwrap(), json!(false));
        assert_eq!(decode(&[b'i', 0xff]).unwrap(), json!(-1));
        assert_eq!(decode(&[b'U', 0xff]).unwrap(), json!(255));
        assert_eq!(decode(&[b'I', 0x01, 0x02]).unwrap(), json!(258));
        assert_eq!(decode(&[b'l', 0xff, 0xff, 0xff, 0xfe]).unwrap(), json!(-2));
        assert_eq!(decode(&[b'L', 0, 0, 0, 1, 0, 0, 0, 0]).unwrap(), json!(1u64 << 32));
        let mut d = vec![b'd'];
        d.extend_from_slice(&0.1f32.to_be_bytes());
        assert_eq!(decode(&d).unwrap().as_f64().unwrap(), f64::from(0.1f32));
        let mut dd = vec![b'D'];
        dd.extend_from_slice(&0.1f64.to_be_bytes());
        assert_eq!(decode(&dd).unwrap().as_f64().unwrap(), 0.1);
        assert_eq!(decode(b"SU\x03abc").unwrap(), json!("abc"));
        assert_eq!(decode(b"Ca").unwrap(), json!("a"));
        assert_eq!(decode(b"HU\x041e-3").unwrap().as_f64().unwrap(), 1e-3);
    }

    #[test]
    fn plain_and_optimized_containers() {
        // {"a": [1, "x"], "b": {}} with markers everywhere, and no-ops sprinkled in.
        let plain = b"{U\x01a[U\x01NSU\x01x]U\x01b{}N}";
        assert_eq!(decode(plain).unwrap(), json!({"a": [1, "x"], "b": {}}));
        // Counted, untyped.
        assert_eq!(decode(b"[#U\x02U\x05T").unwrap(), json!([5, true]));
        // Typed and counted: int32 and float32 arrays as XGBoost writes them.
        let mut typed = b"[$l#L\x00\x00\x00\x00\x00\x00\x00\x02".to_vec();
        typed.extend_from_slice(&(-1i32).to_be_bytes());
        typed.extend_from_slice(&7i32.to_be_bytes());
        assert_eq!(decode(&typed).unwrap(), json!([-1, 7]));
        let mut floats = b"[$d#U\x02".to_vec();
        floats.extend_from_slice(&1.5f32.to_be_bytes());
        floats.extend_from_slice(&(-0.25f32).to_be_bytes());
        assert_eq!(decode(&floats).unwrap(), json!([1.5, -0.25]));
        // A typed object.
        assert_eq!(decode(b"{$U#U\x02U\x01a\x01U\x01b\x02").unwrap(), json!({"a": 1, "b": 2}));
        // Typed with no-payload elements may claim more elements than bytes.
        assert_eq!(decode(b"[$Z#U\x03").unwrap(), json!([null, null, null]));
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"[",
            b"{U\x01a",
            b"SU\x05ab",
            b"[$l#L\x7f\xff\xff\xff\xff\xff\xff\xff",
            b"[#i\xff",
            b"[$l",
            b"[$lU\x01",
            b"Q",
            b"TT",
            b"SU\x02\xff\xfe",
        ] {
            let e = decode(bad).unwrap_err();
            assert_eq!(e.status(), crate::KilnStatus::MalformedArtifact, "{bad:?}: {e}");
        }
        let mut nan = vec![b'd'];
        nan.extend_from_slice(&f32::NAN.to_be_bytes());
        assert!(decode(&nan).unwrap_err().to_string().contains("non-finite"));
        let deep = vec![b'['; MAX_DEPTH + 2];
        assert!(decode(&deep).unwrap_err().to_string().contains("nested deeper"));
    }
}
