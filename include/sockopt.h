/*
 * sockopt.h - socket options on the connections libmilter accepts
 * (milter/sockopt.c defines accept(), accept4() and writev() for the
 * daemon).
 */
#ifndef FM_SOCKOPT_H
#define FM_SOCKOPT_H

/* descriptors at or above this bound never get TCP_QUICKACK */
#define FM_SOCK_FD_MAX 65536

/*
 * fm_sock_accepted - FD is a connection just accepted. On an AF_INET or
 * AF_INET6 socket: set TCP_NODELAY (unless FM_NO_NODELAY is set in the
 * environment to something other than "0") and mark FD for TCP_QUICKACK
 * after each writev() (unless FM_NO_QUICKACK is set likewise). Any other
 * socket is unmarked and left alone. Keeps errno.
 */
void fm_sock_accepted(int fd);

/* fm_sock_quickack - FD is marked: writev() sets TCP_QUICKACK after it */
int fm_sock_quickack(int fd);

#endif
