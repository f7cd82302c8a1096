//! Reading client certificates: the names and key fingerprint an mTLS identity is made of
//! ([`CertInfo`]), with rustls' own parser and a small DER reader for the common name.

use rustls::pki_types::CertificateDer;

use super::PrincipalSource;

/// A certificate that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Not an X.509 v3 certificate rustls' parser accepts.
    #[error("the certificate cannot be parsed: {0}")]
    Parse(String),
    /// The subject name is not well-formed DER.
    #[error("the certificate's subject name is malformed")]
    Subject,
}

/// The names in a certificate that identities are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    common_name: Option<String>,
    dns_names: Vec<String>,
    uris: Vec<String>,
    spki_sha256: [u8; 32],
}

impl CertInfo {
    /// Reads a DER certificate (with rustls' own parser, `rustls-webpki`; the common name
    /// with a small DER reader over the subject it returns).
    pub fn parse(cert: &CertificateDer<'_>) -> Result<CertInfo, CertError> {
        let ee =
            webpki::EndEntityCert::try_from(cert).map_err(|e| CertError::Parse(e.to_string()))?;
        let spki = ee.subject_public_key_info();
        let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
        let mut spki_sha256 = [0u8; 32];
        spki_sha256.copy_from_slice(&digest.as_ref()[..32]);
        Ok(CertInfo {
            common_name: der::common_name(ee.subject()).ok_or(CertError::Subject)?,
            dns_names: ee.valid_dns_names().map(str::to_owned).collect(),
            uris: ee.valid_uri_names().map(str::to_owned).collect(),
            spki_sha256,
        })
    }

    /// The subject's common name (the last, if several).
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The DNS names of the subject-alternative-name extension.
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// The URIs of the subject-alternative-name extension.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn spki_sha256(&self) -> &[u8; 32] {
        &self.spki_sha256
    }

    /// [`CertInfo::spki_sha256`] as 64 lowercase hex digits.
    pub fn spki_sha256_hex(&self) -> String {
        hex(&self.spki_sha256)
    }

    /// The principal `source` names, if the certificate has it.
    pub fn principal(&self, source: PrincipalSource) -> Option<String> {
        match source {
            PrincipalSource::CommonName => self.common_name.clone(),
            PrincipalSource::DnsName => self.dns_names.first().cloned(),
            PrincipalSource::Uri => self.uris.first().cloned(),
            PrincipalSource::SpkiSha256 => Some(self.spki_sha256_hex()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A small, bounds-checked DER reader: just enough to find the common name in a subject
/// that `rustls-webpki` already parsed as a certificate (which exposes no CN of its own).
mod der {
    /// The first element of `input`: its tag, its contents and what follows it.
    pub(super) fn next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // high tag numbers: never in a name
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (len_bytes, rest) = rest.split_at(n);
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, rest)
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        Some((tag, contents, rest))
    }

    const SET: u8 = 0x31;
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    /// id-at-commonName, 2.5.4.3.
    const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

    /// The common name of a subject given as the contents of its RDNSequence; `None` when
    /// malformed, `Some(None)` when it has no CN. With several CNs, the last one (the most
    /// specific, as Go's crypto/x509 does).
    pub(super) fn common_name(mut rdns: &[u8]) -> Option<Option<String>> {
        let mut cn = None;
        while !rdns.is_empty() {
            let (tag, mut set, rest) = next(rdns)?;
            rdns = rest;
            if tag != SET {
                return None;
            }
            while !set.is_empty() {
                let (tag, atv, rest) = next(set)?;
                set = rest;
                if tag != SEQUENCE {
                    return None;
                }
                let (tag, oid, value) = next(atv)?;
                if tag != OID {
                    return None;
                }
                if oid == COMMON_NAME {
                    let (tag, bytes, _) = next(value)?;
                    cn = Some(directory_string(tag, bytes)?);
                }
            }
        }
        Some(cn)
    }

    fn directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
        match tag {
            // UTF8String
            0x0c => String::from_utf8(bytes.to_vec()).ok(),
            // PrintableString, IA5String, TeletexString (ASCII only)
            0x13 | 0x16 | 0x14 => bytes
                .is_ascii()
                .then(|| String::from_utf8_lossy(bytes).into_owned()),
            // BMPString: UTF-16BE
            0x1e if bytes.len() % 2 == 0 => {
                let units = bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .ok()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MtlsAuth;
    use super::super::test_support::cert;
    use super::*;
    use crate::rpc::PeerCertificates;

    #[test]
    fn cert_info_reads_names_and_fingerprint() {
        let (der, spki) = cert(Some("plugin-a"), &["a.example", "b.example"]);
        let info = CertInfo::parse(&der).unwrap();
        assert_eq!(info.common_name(), Some("plugin-a"));
        assert_eq!(info.dns_names(), ["a.example", "b.example"]);
        let expected = ring::digest::digest(&ring::digest::SHA256, &spki);
        assert_eq!(&info.spki_sha256()[..], expected.as_ref());
        assert_eq!(info.spki_sha256_hex().len(), 64);
        assert_eq!(
            info.principal(PrincipalSource::DnsName).as_deref(),
            Some("a.example")
        );

        let (der, _) = cert(None, &["only.example"]);
        let info = CertInfo::parse(&der).unwrap();
        assert_eq!(info.common_name(), None);
        let mut certs = PeerCertificates::new(vec![der]).unwrap();
        let e = MtlsAuth::default().identity_for(&certs).unwrap_err();
        assert_eq!(e.message(), "the client certificate has no common name");
        let id = MtlsAuth::new(PrincipalSource::DnsName)
            .identity_for(&certs)
            .unwrap();
        assert_eq!(id.principal(), "only.example");
        assert_eq!(id.scheme(), Some("mtls"));
        assert_eq!(id.attribute("tls.dns-names"), Some("only.example"));

        // Garbage is refused, not a panic.
        certs =
            PeerCertificates::new(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]).unwrap();
        let e = MtlsAuth::default().identity_for(&certs).unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
    }

    #[test]
    fn der_common_name_reader() {
        // SET { SEQUENCE { OID 2.5.4.3, UTF8String "hé" } }
        let rdn = |tag: u8, s: &[u8]| {
            let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, tag, s.len() as u8];
            atv.extend_from_slice(s);
            let mut seq = vec![0x30, atv.len() as u8];
            seq.extend(atv);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend(seq);
            set
        };
        assert_eq!(
            der::common_name(&rdn(0x0c, "hé".as_bytes())),
            Some(Some("hé".to_owned()))
        );
        assert_eq!(
            der::common_name(&rdn(0x13, b"x")),
            Some(Some("x".to_owned()))
        );
        assert_eq!(
            der::common_name(&rdn(0x1e, &[0, b'h', 0, b'i'])),
            Some(Some("hi".to_owned()))
        );
        // The last of several wins.
        let mut two = rdn(0x0c, b"first");
        two.extend(rdn(0x0c, b"second"));
        assert_eq!(der::common_name(&two), Some(Some("second".to_owned())));
        assert_eq!(der::common_name(&[]), Some(None));
        // Truncated or mistagged input is malformed, never a panic.
        let good = rdn(0x0c, b"name");
        for cut in 1..good.len() {
            assert_eq!(der::common_name(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(der::common_name(&[0x30, 0x00]), None);
        assert_eq!(der::common_name(&rdn(0x0c, &[0xff])), None);
        assert_eq!(der::common_name(&rdn(0x16, "é".as_bytes())), None);
        assert_eq!(der::next(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(der::next(&[0x04, 0x80]), None);
        assert_eq!(der::next(&[0x1f, 0x00]), None);
    }
}
