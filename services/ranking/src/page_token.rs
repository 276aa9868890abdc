//! Page tokens of `GetRanking`: opaque, and bound to the query they continue.
//!
//! A token is 40 hexadecimal characters: the offset of the next page (8 bytes) and the first 12
//! bytes of a SHA-256 over a domain tag, the query (year, framework, basis, group) and the
//! offset. A token edited by hand, or given with another round, basis or group than the one
//! that returned it, is refused (`InvalidArgument` on `page_token`). The digest is a binding,
//! not a secret: a token grants no access a caller does not already have (every page of a
//! ranking it may read is reachable from the first).

use dti_domain::RoundRef;
use dti_scores::Basis;
use sha2::{Digest, Sha256};

/// Bytes of the query digest kept in a token.
const DIGEST_BYTES: usize = 12;
/// Length of a token in hexadecimal characters.
const TOKEN_CHARS: usize = 2 * (8 + DIGEST_BYTES);

/// The query a page belongs to.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery<'a> {
    /// The round ranked.
    pub round: &'a RoundRef,
    /// Self-assessed or verified.
    pub basis: Basis,
    /// Group code; none ranks by total.
    pub group: Option<&'a str>,
}

impl PageQuery<'_> {
    fn digest(&self, offset: u64) -> [u8; DIGEST_BYTES] {
        let mut hash = Sha256::new();
        hash.update(b"dti-ranking-page-token/v1\0");
        hash.update(self.round.year.to_be_bytes());
        for part in [
            self.round.framework.as_str(),
            self.basis.as_str(),
            self.group.unwrap_or(""),
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.update(offset.to_be_bytes());
        let full = hash.finalize();
        let mut kept = [0_u8; DIGEST_BYTES];
        kept.copy_from_slice(&full[..DIGEST_BYTES]);
        kept
    }

    /// The token continuing this query at `offset`.
    pub fn token(&self, offset: u64) -> String {
        let mut bytes = offset.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.digest(offset));
        hex::encode(bytes)
    }

    /// The offset `token` continues this query at; `None` for a token this query never got.
    pub fn offset(&self, token: &str) -> Option<u64> {
        if token.len() != TOKEN_CHARS {
            return None;
        }
        let bytes = hex::decode(token).ok()?;
        let (offset, digest) = bytes.split_at(8);
        let offset = u64::from_be_bytes(offset.try_into().ok()?);
        (digest == self.digest(offset).as_slice()).then_some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(year: u16) -> RoundRef {
        RoundRef {
            year,
            framework: dti_domain::FrameworkId::parse("hcm-2023-district").expect("id"),
        }
    }

    #[test]
    fn a_token_continues_the_query_that_issued_it_only() {
        let r2023 = round(2023);
        let query = PageQuery {
            round: &r2023,
            basis: Basis::SelfAssessed,
            group: None,
        };
        let token = query.token(50);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(!token.contains("50"), "opaque: {token}");
        assert_eq!(query.offset(&token), Some(50));

        let other_basis = PageQuery {
            basis: Basis::Verified,
            ..query
        };
        let other_group = PageQuery {
            group: Some("3"),
            ..query
        };
        let r2024 = round(2024);
        let other_round = PageQuery {
            round: &r2024,
            ..query
        };
        for other in [other_basis, other_group, other_round] {
            assert_eq!(other.offset(&token), None, "{other:?}");
        }
    }

    #[test]
    fn edited_or_malformed_tokens_are_refused() {
        let r2023 = round(2023);
        let query = PageQuery {
            round: &r2023,
            basis: Basis::Verified,
            group: Some("1"),
        };
        let token = query.token(100);
        // The offset edited to 0 (its first 16 characters), keeping the digest.
        let edited = format!("{:016x}{}", 0, &token[16..]);
        assert_eq!(query.offset(&edited), None);
        for bad in [
            "",
            "50",
            "next",
            &token[1..],
            &format!("{token}0"),
            &"z".repeat(40),
        ] {
            assert_eq!(query.offset(bad), None, "{bad:?}");
        }
    }
}
