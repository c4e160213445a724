//! Address resolution, on the blocking pool when a name must be looked up.
//!
//! Every address form is turned, synchronously and before any await, into a
//! [`Lookup`](sealed::Lookup): either the addresses themselves (a literal,
//! parsed here) or an owned name to resolve. Only that owned name moves to
//! the blocking pool, so the caller's address may be borrowed (`&str`,
//! `&String`, `(&str, u16)`) for as short a time as it likes.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything that names socket addresses: a `SocketAddr`, `(ip, port)`,
/// `"host:port"` or `("host", port)`, owned or borrowed. Literal addresses
/// are used as they are; names are resolved on the blocking pool (asyncio
/// users know this as aiodns).
///
/// Implemented for `SocketAddr` (and its V4/V6 forms), `(IpAddr, u16)` (and
/// `Ipv4Addr`/`Ipv6Addr`), `str` and `String`, `(&str, u16)` and
/// `(String, u16)`, `[SocketAddr]` and `Vec<SocketAddr>`, and a reference to
/// any of them. Unlike `std::net::ToSocketAddrs` it is sealed: the lookup
/// must be made from an owned copy of the name, taken before the first
/// await, and only windlass knows how for each form.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use windlass::net::UdpSocket;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let literal: SocketAddr = "127.0.0.1:0".parse().unwrap();
///     let port = 0;
///     let owned = format!("127.0.0.1:{port}");
///     let borrowed: &str = &owned; // not 'static: the name is copied, not moved
///     for socket in [
///         UdpSocket::bind(literal).await,
///         UdpSocket::bind("127.0.0.1:0").await,
///         UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await,
///         UdpSocket::bind(borrowed).await,
///         UdpSocket::bind(&owned).await,
///         UdpSocket::bind(("localhost", port)).await, // a name: looked up on the blocking pool
///         UdpSocket::bind(owned).await,
///     ] {
///         assert!(socket.unwrap().local_addr().unwrap().ip().is_loopback());
///     }
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

impl<T: sealed::Sealed + ?Sized> ToSocketAddrs for T {}

pub(crate) mod sealed {
    use super::*;

    /// What an address form needs to become addresses.
    #[derive(Debug)]
    pub enum Lookup {
        /// Known without a lookup (a literal, a list), or a parse error.
        Ready(io::Result<Vec<SocketAddr>>),
        /// A `"host:port"` string to resolve.
        Name(String),
        /// A host and a port to resolve.
        HostPort(String, u16),
    }

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        /// Copies what is needed to find the addresses; never blocks.
        fn lookup(&self) -> Lookup;
    }
}

use sealed::{Lookup, Sealed};

impl<T: Sealed + ?Sized> Sealed for &T {
    fn lookup(&self) -> Lookup {
        (**self).lookup()
    }
}

impl Sealed for SocketAddr {
    fn lookup(&self) -> Lookup {
        Lookup::Ready(Ok(vec![*self]))
    }
}

/// `Sealed` for types that convert into a `SocketAddr`.
macro_rules! literal {
    ($($ty:ty),*) => {$(
        impl Sealed for $ty {
            fn lookup(&self) -> Lookup {
                Lookup::Ready(Ok(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

literal!(
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl Sealed for str {
    fn lookup(&self) -> Lookup {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Lookup::Ready(Ok(vec![addr])),
            Err(_) => Lookup::Name(self.to_owned()),
        }
    }
}

impl Sealed for String {
    fn lookup(&self) -> Lookup {
        self.as_str().lookup()
    }
}

impl Sealed for (&str, u16) {
    fn lookup(&self) -> Lookup {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Lookup::Ready(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Lookup::HostPort(host.to_owned(), port),
        }
    }
}

impl Sealed for (String, u16) {
    fn lookup(&self) -> Lookup {
        (self.0.as_str(), self.1).lookup()
    }
}

impl Sealed for [SocketAddr] {
    fn lookup(&self) -> Lookup {
        Lookup::Ready(Ok(self.to_vec()))
    }
}

impl Sealed for Vec<SocketAddr> {
    fn lookup(&self) -> Lookup {
        self.as_slice().lookup()
    }
}

/// The addresses `addr` names, looked up on the blocking pool only if it is
/// a name (an owned copy of it moves there, never `addr` itself).
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs as _;
    let addrs = match addr.lookup() {
        Lookup::Ready(addrs) => addrs?,
        Lookup::Name(name) => {
            crate::spawn_blocking(move || name.to_socket_addrs().map(Iterator::collect)).await??
        }
        Lookup::HostPort(host, port) => {
            crate::spawn_blocking(move || {
                (host.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect)
            })
            .await??
        }
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        ));
    }
    Ok(addrs)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ready(addr: impl ToSocketAddrs) -> Vec<SocketAddr> {
        match addr.lookup() {
            Lookup::Ready(addrs) => addrs.unwrap(),
            other => panic!("expected a literal, got {other:?}"),
        }
    }

    #[test]
    fn literals_need_no_lookup_and_names_are_copied() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(ready(v4), [v4]);
        assert_eq!(ready("127.0.0.1:80"), [v4]);
        assert_eq!(ready(String::from("127.0.0.1:80")), [v4]);
        assert_eq!(ready(("127.0.0.1", 80)), [v4]);
        assert_eq!(ready((Ipv4Addr::LOCALHOST, 80)), [v4]);
        assert_eq!(ready(&[v4, v4][..]), [v4, v4]);
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready(("::1", 80)), [v6]);
        assert!(matches!("localhost:80".lookup(), Lookup::Name(n) if n == "localhost:80"));
        let host = String::from("localhost");
        assert!(matches!(
            (host.as_str(), 80).lookup(),
            Lookup::HostPort(h, 80) if h == "localhost"
        ));
    }
}
