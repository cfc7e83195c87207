/*
 * sockopt.c - no Nagle and no delayed ACKs on the TCP connections
 * libmilter accepts.
 *
 * Over an inet: socket the milter protocol is an exchange of small
 * packets, and two TCP mechanisms meant for bulk data stall it:
 *
 * - Nagle's algorithm holds back a small packet while an earlier one is
 *   unacknowledged. Our replies are small; TCP_NODELAY on the accepted
 *   socket sends each at once.
 * - Delayed ACKs: once a connection has carried data both ways, the
 *   kernel holds back the ACK of a small packet for up to 40 ms, hoping
 *   to send it with a reply. The MTA sends steps that get no reply
 *   (headers, body, MAIL, HELO; and the macros before each step), and
 *   its own Nagle holds its next packet until our ACK comes: 40 ms per
 *   such pause (about 45 ms per message measured with one SMTP session,
 *   tests/bench/README). TCP_QUICKACK leaves delayed-ACK mode
 *   until the next time we send data, so after each reply we set it again
 *   and the MTA's next packets are acknowledged as we read them.
 *
 * libmilter sets neither option and gives no access to its sockets. So,
 * as main.c does with sigwait(), we interpose: this file defines accept(),
 * accept4() and writev(), which the executable exports, and the dynamic
 * linker binds libmilter's calls (undefined references to accept@GLIBC
 * and writev@GLIBC in Debian's shared libmilter.so.1.0.1, which writes
 * every reply with writev) to these definitions. Each makes its system
 * call directly through syscall() - the call glibc's function makes - so
 * there is no recursion and no dlsym().
 *
 * accept() sets TCP_NODELAY on an AF_INET or AF_INET6 socket and marks the
 * descriptor as a TCP milter connection in tcp_fd[]; any other accepted
 * descriptor (a unix socket) is unmarked. writev() on a marked descriptor
 * sets TCP_QUICKACK after the write. A descriptor closed and reused for
 * something else keeps its mark until the next accept() returns it; on
 * such a descriptor a writev() makes one setsockopt() more, which fails on
 * anything but a TCP socket and only hastens the ACKs of one (errno is
 * kept either way).
 *
 * accept() and writev() are cancellation points in glibc; libmilter's
 * threads are never cancelled, so a plain syscall() loses nothing here.
 *
 * FM_NO_NODELAY=1 in the environment leaves out TCP_NODELAY,
 * FM_NO_QUICKACK=1 leaves out TCP_QUICKACK, for benchmarks that show the
 * difference. A failing setsockopt() is not an error: the connection
 * works, only slower.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sockopt.h"

/* env_set - NAME is set to something other than "0"; cached in *cache */
static int
env_set(volatile int *cache, const char *name)
{
	int v = *cache;

	if (v < 0) {
		const char *e = getenv(name);

		v = e != NULL && *e != '\0' && *e != '0';
		*cache = v;
	}
	return v;
}

/* -1: not looked at yet; 0: set the option; 1: leave sockets alone */
static volatile int no_nodelay = -1;
static volatile int no_quickack = -1;

/* 1 for a descriptor (below FM_SOCK_FD_MAX) that accept() gave a TCP
 * connection and that gets TCP_QUICKACK after each reply */
static unsigned char tcp_fd[FM_SOCK_FD_MAX];

void
fm_sock_accepted(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;
	int saved = errno;
	int tcp;

	if (fd < 0)
		return;
	tcp = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	      (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	if (fd < FM_SOCK_FD_MAX)
		__atomic_store_n(&tcp_fd[fd],
				 tcp && !env_set(&no_quickack,
						 "FM_NO_QUICKACK"),
				 __ATOMIC_RELAXED);
	if (tcp && !env_set(&no_nodelay, "FM_NO_NODELAY"))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	errno = saved;
}

int
fm_sock_quickack(int fd)
{
	return fd >= 0 && fd < FM_SOCK_FD_MAX &&
	       __atomic_load_n(&tcp_fd[fd], __ATOMIC_RELAXED);
}

/* accept4 - the system call, then the options of a TCP connection */
int
accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	long rc = syscall(SYS_accept4, fd, addr, addrlen, flags);

	if (rc >= 0)
		fm_sock_accepted((int)rc);
	return (int)rc;
}

/* accept - libmilter's listener thread accepts every connection here */
int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return accept4(fd, addr, addrlen, 0);
}

/* writev - libmilter's replies; on a TCP connection, then no delayed ACK */
ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	long rc = syscall(SYS_writev, fd, iov, iovcnt);

	if (rc >= 0 && fm_sock_quickack(fd)) {
		int one = 1;
		int saved = errno;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
				 sizeof(one));
		errno = saved;
	}
	return (ssize_t)rc;
}
