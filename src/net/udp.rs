//! UDP sockets.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use super::addr::{ToSocketAddrs, resolve};
use crate::io::Async;

/// A UDP socket.
///
/// ```
/// use windlass::net::UdpSocket;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    inner: Async<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`; port 0 asks the system for a free port.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// # });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match std::net::UdpSocket::bind(addr) {
                Ok(s) => return UdpSocket::from_std(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
    }

    /// Wraps a std socket (made non-blocking here). Must be called inside a
    /// runtime.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// std_socket.set_ttl(8).unwrap(); // options std offers and UdpSocket does not
    /// let socket = windlass::net::UdpSocket::from_std(std_socket).unwrap();
    /// socket.send_to(b"self", socket.local_addr().unwrap()).await.unwrap();
    /// let mut buf = [0; 4];
    /// assert_eq!(socket.recv(&mut buf).await.unwrap(), 4);
    /// # });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Async::new(socket)?,
        })
    }

    /// The bound address. See the example on [`bind`](Self::bind).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer; an error of kind `NotConnected` before
    /// [`connect`](Self::connect).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let err = a.peer_addr().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    /// a.connect("127.0.0.1:9").await.unwrap();
    /// assert_eq!(a.peer_addr().unwrap().port(), 9);
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets the default destination (for [`send`](Self::send)) and
    /// filters received datagrams to those from it.
    ///
    /// ```
    /// use windlass::net::UdpSocket;
    ///
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let (me, friend, stranger) = (
    ///     UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    ///     UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    ///     UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    /// );
    /// me.connect(friend.local_addr().unwrap()).await.unwrap();
    /// let my_addr = me.local_addr().unwrap();
    /// stranger.send_to(b"spam", my_addr).await.unwrap(); // filtered out
    /// friend.send_to(b"hi", my_addr).await.unwrap();
    /// let mut buf = [0; 4];
    /// let n = me.recv(&mut buf).await.unwrap();
    /// assert_eq!(&buf[..n], b"hi");
    /// # });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match self.inner.get_ref().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// Sends a datagram to `target` (the first address it resolves to);
    /// returns the number of bytes sent.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let b = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let sent = a.send_to(b"datagram", b.local_addr().unwrap()).await.unwrap();
    /// assert_eq!(sent, 8);
    /// # });
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = *resolve(target)
            .await?
            .first()
            .expect("resolve returns at least one address");
        self.inner.write_with(|s| s.send_to(buf, target)).await
    }

    /// Receives a datagram and its sender. Waits until one arrives; bytes
    /// beyond `buf`'s length are discarded.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let b = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
    /// let mut small = [0; 3];
    /// let (n, from) = b.recv_from(&mut small).await.unwrap();
    /// assert_eq!((&small[..n], from), (&b"hel"[..], a.local_addr().unwrap()));
    /// # });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Receives a datagram without removing it from the queue: the next
    /// receive returns it again.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let b = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.send_to(b"once", b.local_addr().unwrap()).await.unwrap();
    /// let mut buf = [0; 4];
    /// let (_, from) = b.peek_from(&mut buf).await.unwrap();
    /// assert_eq!(from, a.local_addr().unwrap());
    /// assert_eq!(b.recv_from(&mut buf).await.unwrap(), (4, from)); // still there
    /// # });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.peek_from(buf)).await
    }

    /// Sends to the connected peer; see [`connect`](Self::connect). Fails
    /// if the socket is not connected.
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let b = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// assert!(a.send(b"nowhere").await.is_err());
    /// a.connect(b.local_addr().unwrap()).await.unwrap();
    /// assert_eq!(a.send(b"there").await.unwrap(), 5);
    /// # });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives from the connected peer (or from anyone, on a socket that
    /// is not connected); returns the datagram's length. One call returns
    /// one datagram; see also [`connect`](Self::connect).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let a = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// let b = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.connect(b.local_addr().unwrap()).await.unwrap();
    /// a.send(b"first").await.unwrap();
    /// a.send(b"second").await.unwrap();
    /// let mut buf = [0; 64];
    /// let n = b.recv(&mut buf).await.unwrap();
    /// assert_eq!(&buf[..n], b"first"); // message boundaries are kept
    /// let n = b.recv(&mut buf).await.unwrap();
    /// assert_eq!(&buf[..n], b"second");
    /// # });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// Enables sending to broadcast addresses (off by default, when a
    /// send to one fails).
    ///
    /// ```
    /// # windlass::Runtime::new().unwrap().block_on(async {
    /// let socket = windlass::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
    /// let everyone = "255.255.255.255:9";
    /// assert!(socket.send_to(b"hello?", everyone).await.is_err());
    /// socket.set_broadcast(true).unwrap();
    /// # // Whether a broadcast can go out depends on the network.
    /// # let _ = socket.send_to(b"hello?", everyone).await;
    /// # });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.get_ref().fmt(f)
    }
}
