//! One tree's JSON object read by hand, for the shape kiln writes: compact, every field once,
//! per-node arrays of plain numbers. A large artifact is nearly all such objects, and
//! serde_json's generic path (a visitor call and a bounds check per element, arrays grown by
//! doubling and then shrunk) spent most of a model's load on them.
//!
//! The reader never decides what a tree is on its own: anything outside that shape (whitespace,
//! a key it does not know, category splits, `null`, a number JSON or the field's type would
//! refuse, a value out of range) returns `None` and the caller reads the object with serde_json,
//! which gives the same tree or the same error as before. Numbers are read exactly: JSON's
//! number grammar is checked byte by byte, integers are accumulated with their range checked,
//! and a float is either one exact IEEE operation (Clinger's fast path: its digits as an integer
//! up to 2^53 over a power of ten up to 1e22, both exact, rounded once; W. D. Clinger, "How to
//! read floating point numbers accurately", PLDI 1990) or Rust's correctly rounded
//! `str::parse::<f64>`. serde_json (with `float_roundtrip`) rounds correctly too, so both give
//! the nearest double: the same bits.

use super::model::{Missing, TreeSpec};

/// The tree in `text`, which must be exactly one object; `None` where it is not in the shape
/// this reader takes (the caller then reads it with serde_json).
pub(super) fn read_tree(text: &[u8]) -> Option<TreeSpec> {
    // Checked as UTF-8 once, so that each float's digits are a `str` for its parse.
    let mut r = Reader { text, str: std::str::from_utf8(text).ok()?, at: 0 };
    let mut tree = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: Vec::new(),
        threshold: Vec::new(),
        left: Vec::new(),
        right: Vec::new(),
        default_left: Vec::new(),
        missing: Vec::new(),
        category_splits: Vec::new(),
        value: Vec::new(),
    };
    // The fields seen, one bit each (numbered in the order of the keys below), to refuse a
    // repeated key.
    let mut seen = 0u16;
    r.eat(b'{')?;
    loop {
        r.eat(b'"')?;
        let key_end = r.at + memchr::memchr(b'"', &r.text[r.at..])?;
        let key = &r.text[r.at..key_end];
        r.at = key_end + 1;
        r.eat(b':')?;
        let field = match key {
            b"default_left" => 0,
            b"feature" => 1,
            b"leaf_width" => 2,
            b"left" => 3,
            b"missing" => 4,
            b"right" => 5,
            b"target" => 6,
            b"threshold" => 7,
            b"value" => 8,
            _ => return None,
        };
        if seen & (1 << field) != 0 {
            return None;
        }
        seen |= 1 << field;
        match field {
            0 => tree.default_left = r.array(Reader::boolean)?,
            1 => tree.feature = r.array(Reader::int)?,
            2 => tree.leaf_width = r.uint()?,
            3 => tree.left = r.array(Reader::int)?,
            4 => tree.missing = r.array(Reader::missing)?,
            5 => tree.right = r.array(Reader::int)?,
            6 => tree.target = r.uint()?,
            7 => tree.threshold = r.array(Reader::float)?,
            _ => tree.value = r.array(Reader::float)?,
        }
        match r.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    // The fields without a default must all be there.
    let required = [1, 3, 5, 7, 8].iter().fold(0u16, |m, f| m | 1 << f);
    (seen & required == required && r.at == text.len()).then_some(tree)
}

struct Reader<'t> {
    text: &'t [u8],
    /// `text` as a `str`.
    str: &'t str,
    at: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.text.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn eat_word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// `[item,item,...]`, its length counted first (no element holds a `]` or a `,`) so the
    /// vector is allocated once at its size.
    fn array<T>(&mut self, item: fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let close = self.at + memchr::memchr(b']', &self.text[self.at..])?;
        if close == self.at {
            self.at += 1;
            return Some(Vec::new());
        }
        let n = memchr::memchr_iter(b',', &self.text[self.at..close]).count() + 1;
        let mut out = Vec::with_capacity(n);
        loop {
            out.push(item(self)?);
            match self.next()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
        (self.at == close + 1 && out.len() == n).then_some(out)
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.text.get(self.at)? {
            b't' => self.eat_word(b"true").map(|()| true),
            b'f' => self.eat_word(b"false").map(|()| false),
            _ => None,
        }
    }

    fn missing(&mut self) -> Option<Missing> {
        for (word, m) in [(&b"\"nan\""[..], Missing::Nan), (b"\"zero\"", Missing::Zero), (b"\"as_zero\"", Missing::AsZero)] {
            if self.eat_word(word).is_some() {
                return Some(m);
            }
        }
        None
    }

    /// The digits of a JSON integer part (`0` or a non-zero digit first), at most 19 of them,
    /// as a number and their count; `None` for none, a leading zero before another digit, or
    /// more than 19 (more than any field here holds).
    fn digits(&mut self) -> Option<(u64, usize)> {
        let start = self.at;
        let mut v = 0u64;
        while let Some(&b) = self.text.get(self.at) {
            if !b.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.at += 1;
        }
        let n = self.at - start;
        (n > 0 && !(n > 1 && self.text[start] == b'0')).then_some((v, n))
    }

    /// A JSON integer that an `i32` holds, as serde_json reads one into an `i32` (`-0` is 0).
    fn int(&mut self) -> Option<i32> {
        let negative = self.text.get(self.at) == Some(&b'-');
        self.at += usize::from(negative);
        let (v, _) = self.digits()?;
        let v = i64::try_from(v).ok()?;
        let v = if negative { -v } else { v };
        if matches!(self.text.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None; // a float where an integer goes: serde_json names the error
        }
        i32::try_from(v).ok()
    }

    fn uint(&mut self) -> Option<u32> {
        let (v, _) = self.digits()?;
        if matches!(self.text.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        u32::try_from(v).ok()
    }

    /// A JSON number as the nearest `f64`; `None` for anything JSON's grammar refuses or
    /// whose magnitude overflows (serde_json refuses those too).
    fn float(&mut self) -> Option<f64> {
        let start = self.at;
        // `0.0`, the commonest by far (the values of a boosted tree's splits, a leaf's
        // threshold), with the `,` or `]` after it.
        if self.text.get(start..start + 4).is_some_and(|t| t[..3] == *b"0.0" && matches!(t[3], b',' | b']')) {
            self.at += 3;
            return Some(0.0);
        }
        let negative = self.text.get(self.at) == Some(&b'-');
        self.at += usize::from(negative);
        // The digits, integer part and fraction, as one integer `m` (saturated once past
        // 2^53, where it is no longer exact) over 10^`scale`.
        let mut m = 0u64;
        let int_start = self.at;
        while let Some(d) = self.text.get(self.at).filter(|b| b.is_ascii_digit()) {
            m = m.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            self.at += 1;
        }
        let int_len = self.at - int_start;
        // `0` or a run without a leading zero.
        if int_len == 0 || (int_len > 1 && self.text[int_start] == b'0') {
            return None;
        }
        let mut scale = 0;
        if self.text.get(self.at) == Some(&b'.') {
            self.at += 1;
            let from = self.at;
            while let Some(d) = self.text.get(self.at).filter(|b| b.is_ascii_digit()) {
                m = m.saturating_mul(10).saturating_add(u64::from(d - b'0'));
                self.at += 1;
            }
            scale = self.at - from;
            if scale == 0 {
                return None;
            }
        }
        let mut has_exponent = false;
        if matches!(self.text.get(self.at), Some(b'e' | b'E')) {
            has_exponent = true;
            self.at += 1;
            if matches!(self.text.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            let from = self.at;
            while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
                self.at += 1;
            }
            if self.at == from {
                return None;
            }
        }
        // Clinger's fast path: `m` and 10^scale both exact doubles, so their IEEE quotient is
        // rounded once, to the nearest double.
        if !has_exponent && m <= 1 << 53 && scale < EXACT_POWERS.len() {
            let v = m as f64 / EXACT_POWERS[scale];
            return Some(if negative { -v } else { v });
        }
        let v: f64 = self.str.get(start..self.at)?.parse().ok()?;
        v.is_finite().then_some(v)
    }
}

/// The powers of ten a double holds exactly.
const EXACT_POWERS: [f64; 23] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_tree(text: &str) -> Option<TreeSpec> {
        serde_json::from_str(text).ok()
    }

    /// Each text reads as serde_json reads it, or is handed to serde_json.
    fn agrees(text: &str) {
        let by_hand = read_tree(text.as_bytes());
        if let Some(tree) = &by_hand {
            let by_serde = serde_tree(text).unwrap_or_else(|| panic!("read by hand, refused by serde_json: {text}"));
            assert_eq!(tree.threshold.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), by_serde.threshold.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), "{text}");
            assert_eq!(tree.value.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), by_serde.value.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), "{text}");
            assert_eq!(*tree, by_serde, "{text}");
        }
    }

    fn tree_with_thresholds(numbers: &str) -> String {
        let n = numbers.split(',').count();
        let ints = vec!["-1"; n].join(",");
        format!(r#"{{"feature":[{ints}],"left":[{ints}],"right":[{ints}],"threshold":[{numbers}],"value":[{numbers}]}}"#)
    }

    #[test]
    fn a_tree_as_kiln_writes_it_reads_as_serde_json_reads_it() {
        let text = r#"{"default_left":[true,false,true],"feature":[3,-1,-1],"leaf_width":1,"left":[1,-1,-1],"missing":["nan","zero","as_zero"],"right":[2,-1,-1],"target":2,"threshold":[0.5,0.0,-0.0],"value":[0.0,-1.25,0.30000000000000004]}"#;
        let tree = read_tree(text.as_bytes()).expect("read by hand");
        assert_eq!(tree.missing, [Missing::Nan, Missing::Zero, Missing::AsZero]);
        assert_eq!(tree.target, 2);
        assert!(tree.threshold[2].is_sign_negative());
        agrees(text);
        // Defaults for the optional fields, and empty arrays.
        let text = r#"{"feature":[],"left":[],"right":[],"threshold":[],"value":[]}"#;
        assert_eq!(read_tree(text.as_bytes()).expect("read by hand").leaf_width, 1);
        agrees(text);
    }

    #[test]
    fn floats_read_to_the_bits_serde_json_reads() {
        let cases = [
            "0.0", "-0.0", "1", "-7", "55.0", "0.1", "0.30000000000000004", "78.50000000000001", "0.26965683698654175", "56765.26953125",
            "123456789012345.0", "1234567890123456.0", "9007199254740993", "12345678901234567890123", "0.000001", "1e-7", "1E+22", "5e-324",
            "2.2250738585072014e-308", "1.7976931348623157e308", "4.9406564584124654e-324", "0.1000000000000000055511151231257827",
            "3.14159265358979323846264338327950288", "100000000000000000000000.5", "0.000000000000000000000000000001",
        ];
        for x in cases {
            let text = tree_with_thresholds(x);
            assert!(read_tree(text.as_bytes()).is_some(), "{x} not read by hand");
            agrees(&text);
        }
        // A fixed-seed sweep of random doubles in their shortest and in long spellings.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            if !x.is_finite() {
                continue;
            }
            let scaled = x.abs().log10().clamp(-30.0, 30.0);
            let y = (state % 1000) as f64 * 10f64.powf(scaled.floor() / 10.0) / 7.0;
            for v in [x, y, y as f32 as f64] {
                let shortest = serde_json::to_string(&v).unwrap();
                let long = format!("{v:.20}");
                for s in [shortest, long] {
                    let text = tree_with_thresholds(&s);
                    assert!(read_tree(text.as_bytes()).is_some() || s.len() > 300, "{s} not read by hand");
                    agrees(&text);
                }
            }
        }
    }

    #[test]
    fn anything_else_is_left_to_serde_json() {
        let good = r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#;
        assert!(read_tree(good.as_bytes()).is_some());
        for bad in [
            r#"{"feature":[-1], "left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#, // whitespace
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]} "#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5]}"#,               // no value
            r#"{"feature":[-1],"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"Feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"category_splits":[],"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"feature":[-1.0],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"feature":[2147483648],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"feature":[-01],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[null],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[.5],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[5.],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[+5],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[05],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[1e],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[1e400],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[inf],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5,],"value":[1.5]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5],"target":-1}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5],"missing":["none"]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5],"default_left":[1]}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5]}}"#,
            r#"{"feature":[-1],"left":[-1],"right":[-1],"threshold":[0.5],"value":[1.5],}"#,
        ] {
            assert!(read_tree(bad.as_bytes()).is_none(), "read by hand: {bad}");
        }
    }
}
