/*
 * sockopt.c - TCP_NODELAY on the milter connections libmilter accepts.
 *
 * Over an inet: socket the milter protocol is a strict request/reply
 * exchange of small packets. Without TCP_NODELAY, Nagle's algorithm holds
 * back a small reply while an earlier segment is unacknowledged, and the
 * MTA's delayed ACK holds the acknowledgement back for up to 40 ms: each
 * message then stalls about 40 ms per session. libmilter does not set
 * TCP_NODELAY and gives no access to the sockets it accepts.
 *
 * So, as main.c does with sigwait(), we interpose: this file defines
 * accept(), which the executable exports, and the dynamic linker binds
 * libmilter's call (an undefined reference to accept@GLIBC in the shared
 * libmilter.so.1.0.1 of Debian; it does not use accept4) to this definition.
 * Ours calls the kernel directly through syscall(SYS_accept4, ..., 0) - the
 * same system call glibc's accept() makes - so there is no recursion and no
 * dlsym(). On an accepted AF_INET or AF_INET6 socket it sets TCP_NODELAY;
 * unix sockets are left alone. accept4() is defined the same way, for a
 * libmilter that would use it.
 *
 * accept() is a cancellation point in glibc; libmilter's listener thread is
 * never cancelled, so a plain syscall() loses nothing here.
 *
 * FM_NO_NODELAY=1 in the environment turns the option off (the accepted
 * socket is returned as is), for benchmarks that show the difference.
 * A failing setsockopt() is not an error: the connection works, only slower.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sockopt.h"

/* -1: not looked at yet; 0: set TCP_NODELAY; 1: leave sockets alone */
static volatile int no_nodelay = -1;

/* nodelay_disabled - FM_NO_NODELAY is set to something other than 0 */
static int
nodelay_disabled(void)
{
	int v = no_nodelay;

	if (v < 0) {
		const char *e = getenv("FM_NO_NODELAY");

		v = e != NULL && *e != '\0' && *e != '0';
		no_nodelay = v;
	}
	return v;
}

void
fm_sock_nodelay(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;
	int saved = errno;

	if (fd < 0 || nodelay_disabled())
		return;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	errno = saved;
}

/* accept4 - the system call, then TCP_NODELAY on a TCP socket */
int
accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	long rc = syscall(SYS_accept4, fd, addr, addrlen, flags);

	if (rc >= 0)
		fm_sock_nodelay((int)rc);
	return (int)rc;
}

/* accept - libmilter's listener thread accepts every connection here */
int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return accept4(fd, addr, addrlen, 0);
}
