// DNS lookups for `-a dns:` and `-a srv:`, in C: glibc's resolver takes a name server and
// port per call (res_ninit, then nsaddr_list) and parses answers with name compression
// (ns_initparse, ns_parserr, dn_expand), which Swift cannot reach directly. Swift code
// reaches it through VaultClient's NodeDiscovery.
#ifndef KEYTURN_CRESOLV_H
#define KEYTURN_CRESOLV_H

/// One record of an answer: an address as text (A, AAAA), or an SRV's priority, weight, port
/// and target name.
typedef struct {
    int type;
    char text[256];
    int priority;
    int weight;
    int port;
} kt_dns_record;

/// Why a query found nothing.
enum {
    KT_DNS_NO_NAME = 1,     // NXDOMAIN
    KT_DNS_NO_DATA = 2,     // the name exists, without records of that type
    KT_DNS_NO_ANSWER = 3,   // no server answered, or it failed (SERVFAIL, REFUSED, a timeout)
    KT_DNS_BAD_ANSWER = 4,  // an answer that does not parse
    KT_DNS_BAD_SERVER = 5,  // `server` is not an IPv4 address
};

/// Asks for the records of `type` (1 = A, 28 = AAAA, 33 = SRV) of `name`, from the IPv4 name
/// server `server` on `port` or, when `server` is NULL, from those of /etc/resolv.conf. Two
/// tries of 2 s each. Fills at most `max` records of that type (CNAMEs on the way are
/// followed by the server, not listed) and returns how many, or -1 with `*error` set.
int kt_dns_query(const char *server, int port, const char *name, int type, kt_dns_record *out, int max, int *error);

#endif
