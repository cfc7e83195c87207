/*
 * test_sockopt - unit tests for milter/sockopt.c: the options of the
 * connections accept() returns, and TCP_QUICKACK after writev()
 *
 * Links milter/sockopt.c, so accept() and writev() in this program are the
 * module's, as they are in feedback-milter. Connections are real: TCP on
 * 127.0.0.1 and a unix socket in a temporary directory. The kernel reports
 * the delayed-ACK state through getsockopt(TCP_QUICKACK): 0 while the
 * connection is in delayed-ACK ("ping-pong") mode, which it enters when
 * the program answers right after receiving, as a milter does.
 *
 * The environment switches (FM_NO_NODELAY, FM_NO_QUICKACK) are read once
 * per process, so the tests of those run this program again, as
 * "test_sockopt --options", which prints nothing and exits with
 * 10 * TCP_NODELAY + marked for one accepted connection.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockopt.h"

/* a listening socket and a connection to it, before accept() */
struct pair {
	int lfd;		/* listening */
	int cfd;		/* the client's end */
};

/* tcp_pair - listen on 127.0.0.1, an ephemeral port, and connect */
static void tcp_pair(struct pair *p)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len),
			 0);
	p->cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->cfd >= 0);
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&sin,
				 sizeof(sin)), 0);
}

static char unix_dir[64];

/* unix_pair - listen on a unix socket in a temporary directory, connect */
static void unix_pair(struct pair *p)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(unix_dir, sizeof(unix_dir), "/tmp/test_sockopt.XXXXXX");
	assert_non_null(mkdtemp(unix_dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", unix_dir);
	p->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sun, sizeof(sun)),
			 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	p->cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(p->cfd >= 0);
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&sun,
				 sizeof(sun)), 0);
}

static void unix_cleanup(void)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/s", unix_dir);
	(void)unlink(path);
	(void)rmdir(unix_dir);
}

static int tcp_opt(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, opt, &v, &len), 0);
	return v;
}

/* exchange - the client sends a packet, the server reads it and answers at
 * once; with_ours, through this program's writev(), else through the
 * system call itself */
static void exchange(int cfd, int sfd, int with_ours)
{
	char buf[16];
	struct iovec iov = {.iov_base = "reply", .iov_len = 5};

	assert_int_equal(write(cfd, "step", 4), 4);
	assert_int_equal(read(sfd, buf, sizeof(buf)), 4);
	if (with_ours)
		assert_int_equal(writev(sfd, &iov, 1), 5);
	else
		assert_int_equal(syscall(SYS_writev, sfd, &iov, 1), 5);
	assert_int_equal(read(cfd, buf, sizeof(buf)), 5);
}

/* test_tcp_accepted - NODELAY set and the descriptor marked */
static void test_tcp_accepted(void **state)
{
	struct pair p;
	int sfd;

	(void)state;
	tcp_pair(&p);
	sfd = accept(p.lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(tcp_opt(sfd, TCP_NODELAY), 1);
	assert_true(fm_sock_quickack(sfd));
	/* accept4() does the same */
	close(p.cfd);
	p.cfd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int sfd2;

		assert_int_equal(getsockname(p.lfd, (struct sockaddr *)&sin,
					     &len), 0);
		assert_int_equal(connect(p.cfd, (struct sockaddr *)&sin,
					 sizeof(sin)), 0);
		sfd2 = accept4(p.lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(sfd2 >= 0);
		assert_int_equal(tcp_opt(sfd2, TCP_NODELAY), 1);
		assert_true(fm_sock_quickack(sfd2));
		close(sfd2);
	}
	close(sfd);
	close(p.cfd);
	close(p.lfd);
}

/* test_unix_accepted - a unix socket is not marked, also when its
 * descriptor was a marked TCP connection before */
static void test_unix_accepted(void **state)
{
	struct pair t, u;
	int sfd, ufd;

	(void)state;
	unix_pair(&u);
	tcp_pair(&t);
	sfd = accept(t.lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_true(fm_sock_quickack(sfd));
	close(sfd);
	/* the lowest free descriptor: the one the TCP connection had */
	ufd = accept(u.lfd, NULL, NULL);
	assert_int_equal(ufd, sfd);
	assert_false(fm_sock_quickack(ufd));
	/* writev works on it as the system call does */
	{
		struct iovec iov = {.iov_base = "x", .iov_len = 1};
		char c;

		assert_int_equal(writev(ufd, &iov, 1), 1);
		assert_int_equal(read(u.cfd, &c, 1), 1);
		assert_int_equal(c, 'x');
	}
	close(ufd);
	close(u.cfd);
	close(u.lfd);
	close(t.cfd);
	close(t.lfd);
	unix_cleanup();
}

/* test_quickack_after_writev - answering right after receiving puts the
 * connection in delayed-ACK mode; through writev() it leaves it again */
static void test_quickack_after_writev(void **state)
{
	struct pair p;
	int sfd, i;

	(void)state;
	tcp_pair(&p);
	sfd = accept(p.lfd, NULL, NULL);
	assert_true(sfd >= 0);
	/* the kernel's own behaviour, through the bare system call: what
	 * the option must undo (several exchanges, for kernels that want
	 * more than one before they delay ACKs) */
	for (i = 0; i < 4; i++)
		exchange(p.cfd, sfd, 0);
	assert_int_equal(tcp_opt(sfd, TCP_QUICKACK), 0);
	/* through the module's writev() */
	exchange(p.cfd, sfd, 1);
	assert_int_equal(tcp_opt(sfd, TCP_QUICKACK), 1);
	for (i = 0; i < 4; i++) {
		exchange(p.cfd, sfd, 1);
		assert_int_equal(tcp_opt(sfd, TCP_QUICKACK), 1);
	}
	close(sfd);
	close(p.cfd);
	close(p.lfd);
}

/* test_writev_error - a failing writev() reports the system call's error */
static void test_writev_error(void **state)
{
	struct iovec iov = {.iov_base = "x", .iov_len = 1};

	(void)state;
	errno = 0;
	assert_int_equal(writev(-1, &iov, 1), -1);
	assert_int_equal(errno, EBADF);
}

static const char *self;	/* argv[0], for the child processes */

/* in_child - this program with --options and NAME=VALUE in its
 * environment (a new process image: the switches are read afresh); its
 * exit status */
static int in_child(const char *name, const char *value)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv(name, value, 1);
		execl(self, self, "--options", (char *)NULL);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* child_options - 10 * NODELAY + marked, of one accepted connection, or
 * 99 on a failure */
static int child_options(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int lfd, cfd, sfd, v = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		return 99;
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sin, sizeof(sin)))
		return 99;
	if ((sfd = accept(lfd, NULL, NULL)) < 0)
		return 99;
	len = sizeof(v);
	if (getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &v, &len))
		return 99;
	return (v != 0) * 10 + fm_sock_quickack(sfd);
}

/* test_env_switches - FM_NO_NODELAY and FM_NO_QUICKACK turn each off */
static void test_env_switches(void **state)
{
	(void)state;
	assert_int_equal(in_child("FM_NO_NODELAY", "1"), 1);
	assert_int_equal(in_child("FM_NO_QUICKACK", "1"), 10);
	assert_int_equal(in_child("FM_NO_QUICKACK", "0"), 11);
	assert_int_equal(in_child("FM_NO_NODELAY", ""), 11);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_accepted),
		cmocka_unit_test(test_unix_accepted),
		cmocka_unit_test(test_quickack_after_writev),
		cmocka_unit_test(test_writev_error),
		cmocka_unit_test(test_env_switches),
	};

	if (argc == 2 && strcmp(argv[1], "--options") == 0)
		return child_options();
	self = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
