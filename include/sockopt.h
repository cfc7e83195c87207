/*
 * sockopt.h - socket options on the connections libmilter accepts
 * (milter/sockopt.c defines accept() and accept4() for the daemon).
 */
#ifndef FM_SOCKOPT_H
#define FM_SOCKOPT_H

/*
 * fm_sock_nodelay - set TCP_NODELAY on FD if it is an AF_INET or AF_INET6
 * socket (unix sockets are left alone), unless FM_NO_NODELAY is set in the
 * environment to something other than "0". Keeps errno.
 */
void fm_sock_nodelay(int fd);

#endif
