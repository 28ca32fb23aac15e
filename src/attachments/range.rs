//! HTTP range requests on downloads (RFC 9110 §14): one byte range per request.
//! Several ranges, or a header we do not understand, get the whole file (which
//! the RFC allows); a single range outside the file gets 416.

/// Which part of a file of a known size a download sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Whole,
    /// Inclusive byte positions, `first <= last < size`.
    Range {
        first: u64,
        last: u64,
    },
    /// 416, with `Content-Range: bytes */size`.
    Unsatisfiable,
}

impl Part {
    /// The part a `Range` header value asks for, of a file of `size` bytes.
    pub fn of(header: Option<&str>, size: u64) -> Self {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
            return Part::Whole;
        };
        if spec.contains(',') {
            return Part::Whole;
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return Part::Whole;
        };
        let number = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        match (first.trim().is_empty(), number(first), number(last)) {
            // "-n": the last n bytes.
            (true, _, Some(suffix)) => {
                if suffix == 0 || size == 0 {
                    Part::Unsatisfiable
                } else {
                    Part::Range {
                        first: size.saturating_sub(suffix),
                        last: size - 1,
                    }
                }
            }
            // "a-" or "a-b".
            (false, Some(first), last) if last.is_some() || last_is_open(spec) => {
                if first >= size {
                    return Part::Unsatisfiable;
                }
                match last {
                    Some(last) if last < first => Part::Whole,
                    Some(last) => Part::Range {
                        first,
                        last: last.min(size - 1),
                    },
                    None => Part::Range {
                        first,
                        last: size - 1,
                    },
                }
            }
            _ => Part::Whole,
        }
    }
}

fn last_is_open(spec: &str) -> bool {
    spec.trim().ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::Part::{self, *};

    #[test]
    fn single_ranges_are_served_and_others_get_the_whole_file_or_416() {
        let cases = [
            (None, Whole),
            (Some("bytes=0-3"), Range { first: 0, last: 3 }),
            (Some("bytes=4-"), Range { first: 4, last: 9 }),
            (Some("bytes=-3"), Range { first: 7, last: 9 }),
            (Some("bytes=-30"), Range { first: 0, last: 9 }),
            (Some("bytes=5-100"), Range { first: 5, last: 9 }),
            (Some("bytes=10-"), Unsatisfiable),
            (Some("bytes=20-30"), Unsatisfiable),
            (Some("bytes=-0"), Unsatisfiable),
            (Some("bytes=5-2"), Whole),
            (Some("bytes=0-1,4-5"), Whole),
            (Some("items=0-1"), Whole),
            (Some("bytes=a-b"), Whole),
            (Some("bytes=-"), Whole),
            (Some("bytes=+1-2"), Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(Part::of(header, 10), expected, "{header:?}");
        }
        assert_eq!(Part::of(Some("bytes=0-"), 0), Unsatisfiable);
    }
}
