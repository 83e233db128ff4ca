//! TLS to Postgres with rustls (ring): managed databases (RDS forces it) are reached with
//! `sslmode=require` in the URL, the server verified against `PASTEBIN_DB_CA_FILE` (or the
//! public web PKI roots). Servers without TLS (the local stack) are used in plain text unless the
//! URL requires TLS.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

pub fn connector(ca_file: Option<&Path>) -> anyhow::Result<MakeRustlsConnect> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| anyhow::anyhow!("PASTEBIN_DB_CA_FILE {}: {e}", path.display()))?
            {
                roots.add(cert.map_err(|e| {
                    anyhow::anyhow!("PASTEBIN_DB_CA_FILE {}: {e}", path.display())
                })?)?;
            }
            if roots.is_empty() {
                anyhow::bail!(
                    "PASTEBIN_DB_CA_FILE {} holds no certificate",
                    path.display()
                );
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
