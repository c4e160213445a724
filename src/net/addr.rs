//! Address resolution, on the blocking pool when a name must be looked up.

use std::any::Any;
use std::io;
use std::net::SocketAddr;

/// Anything that names socket addresses: a `SocketAddr`, `(ip, port)`, or a
/// `"host:port"` string. Literal addresses are used as they are; names are
/// resolved on the blocking pool (asyncio users know this as aiodns).
///
/// Implemented for every `Send + 'static` implementor of
/// [`std::net::ToSocketAddrs`]: the value moves to the blocking pool when a
/// name must be looked up, so a borrowed string must be `'static` (a
/// literal); pass a `String` otherwise.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use windlass::net::UdpSocket;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let literal: SocketAddr = "127.0.0.1:0".parse().unwrap();
///     let port = 0;
///     for socket in [
///         UdpSocket::bind(literal).await,
///         UdpSocket::bind("127.0.0.1:0").await,
///         UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await,
///         UdpSocket::bind(format!("127.0.0.1:{port}")).await, // an owned String
///     ] {
///         assert!(socket.unwrap().local_addr().unwrap().ip().is_loopback());
///     }
/// });
/// ```
pub trait ToSocketAddrs: std::net::ToSocketAddrs + Send + 'static {}

impl<T: std::net::ToSocketAddrs + Send + 'static> ToSocketAddrs for T {}

/// The addresses `addr` names, looked up on the blocking pool only if it is
/// not a literal.
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    if let Some(literal) = literal(&addr) {
        return Ok(vec![literal]);
    }
    let addrs =
        crate::spawn_blocking(move || addr.to_socket_addrs().map(|it| it.collect::<Vec<_>>()))
            .await??;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        ));
    }
    Ok(addrs)
}

fn literal(addr: &dyn Any) -> Option<SocketAddr> {
    if let Some(a) = addr.downcast_ref::<SocketAddr>() {
        return Some(*a);
    }
    if let Some(s) = addr.downcast_ref::<&'static str>() {
        return s.parse().ok();
    }
    addr.downcast_ref::<String>().and_then(|s| s.parse().ok())
}
