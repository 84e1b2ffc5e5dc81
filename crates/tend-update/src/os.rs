//! Every difference between operating systems in this crate: which TLS implementation the
//! HTTP client uses.

/// rustls on Linux; the system's TLS elsewhere (SChannel on Windows, Security.framework on
/// macOS), with the system's roots.
#[cfg(target_os = "linux")]
pub(crate) const TLS: ureq::tls::TlsProvider = ureq::tls::TlsProvider::Rustls;

/// rustls on Linux; the system's TLS elsewhere (SChannel on Windows, Security.framework on
/// macOS), with the system's roots.
#[cfg(not(target_os = "linux"))]
pub(crate) const TLS: ureq::tls::TlsProvider = ureq::tls::TlsProvider::NativeTls;
