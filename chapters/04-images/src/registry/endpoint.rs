//! Where a registry answers: the host a reference names (`docker.io`, `localhost:5000`), the
//! host its API is on (Docker Hub's is `registry-1.docker.io`), and the scheme. TLS is the
//! default; plain HTTP only for a registry on this machine's loopback, as docker allows, or
//! one named with `--insecure-registry`.

/// Docker Hub's API host.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A registry's API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The registry as references name it: `docker.io`, `localhost:5000`.
    pub registry: String,
    /// The host (and port) the API is on.
    pub api_host: String,
    /// `https`, or `http` for loopback and insecure registries.
    pub scheme: &'static str,
}

impl Endpoint {
    /// The endpoint of `registry`; `insecure` lists the registries that may use plain HTTP.
    pub fn new(registry: &str, insecure: &[String]) -> Endpoint {
        let api_host = if registry == crate::reference::DEFAULT_REGISTRY {
            DOCKER_HUB_API.to_string()
        } else {
            registry.to_string()
        };
        let plain = is_loopback(registry) || insecure.iter().any(|r| r == registry);
        Endpoint {
            registry: registry.to_string(),
            api_host,
            scheme: if plain { "http" } else { "https" },
        }
    }

    /// The URL of an API path (`/v2/...`), or the URL itself if it is one already (a
    /// `Location` header may give either).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}://{}{path}", self.scheme, self.api_host)
        }
    }
}

/// Whether `registry` (a host, with a port or not) is this machine's loopback.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(host, _)| host),
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_except_on_loopback() {
        let hub = Endpoint::new("docker.io", &[]);
        assert_eq!(hub.url("/v2/"), "https://registry-1.docker.io/v2/");
        assert_eq!(
            Endpoint::new("127.0.0.1:5000", &[]).url("/v2/"),
            "http://127.0.0.1:5000/v2/"
        );
        assert_eq!(Endpoint::new("localhost:5000", &[]).scheme, "http");
        assert_eq!(Endpoint::new("[::1]:5000", &[]).scheme, "http");
        assert_eq!(Endpoint::new("ghcr.io", &[]).scheme, "https");
        assert_eq!(
            Endpoint::new("10.0.0.1:5000", &["10.0.0.1:5000".into()]).scheme,
            "http"
        );
        let hub = Endpoint::new("docker.io", &[]);
        assert_eq!(hub.url("https://cdn.example/x"), "https://cdn.example/x");
    }
}
