#include "CResolv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

int kt_dns_query(const char *server, int port, const char *name, int type, kt_dns_record *out, int max, int *error) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) {
        *error = KT_DNS_NO_ANSWER;
        return -1;
    }
    if (server != NULL) {
        struct in_addr address;
        if (inet_pton(AF_INET, server, &address) != 1 || port <= 0 || port > 65535) {
            res_nclose(&state);
            *error = KT_DNS_BAD_SERVER;
            return -1;
        }
        state.nscount = 1;
        state.nsaddr_list[0].sin_family = AF_INET;
        state.nsaddr_list[0].sin_addr = address;
        state.nsaddr_list[0].sin_port = htons((unsigned short)port);
    }
    state.retrans = 2;
    state.retry = 2;
    unsigned char answer[16384];
    int length = res_nquery(&state, name, ns_c_in, type, answer, sizeof answer);
    if (length < 0) {
        int h = state.res_h_errno;
        res_nclose(&state);
        *error = h == HOST_NOT_FOUND ? KT_DNS_NO_NAME : h == NO_DATA ? KT_DNS_NO_DATA : KT_DNS_NO_ANSWER;
        return -1;
    }
    res_nclose(&state);
    if (length > (int)sizeof answer) {
        // res_nquery returns the whole reply's length when it had to truncate it to the buffer.
        *error = KT_DNS_BAD_ANSWER;
        return -1;
    }
    ns_msg message;
    if (ns_initparse(answer, length, &message) < 0) {
        *error = KT_DNS_BAD_ANSWER;
        return -1;
    }
    int count = ns_msg_count(message, ns_s_an), found = 0;
    for (int i = 0; i < count && found < max; i++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, i, &record) < 0) {
            *error = KT_DNS_BAD_ANSWER;
            return -1;
        }
        if (ns_rr_type(record) != type || ns_rr_class(record) != ns_c_in) continue;
        const unsigned char *data = ns_rr_rdata(record);
        int size = ns_rr_rdlen(record);
        kt_dns_record *r = &out[found];
        memset(r, 0, sizeof *r);
        r->type = type;
        if (type == ns_t_a && size == 4) {
            if (inet_ntop(AF_INET, data, r->text, sizeof r->text) == NULL) continue;
        } else if (type == ns_t_aaaa && size == 16) {
            if (inet_ntop(AF_INET6, data, r->text, sizeof r->text) == NULL) continue;
        } else if (type == ns_t_srv && size >= 7) {
            r->priority = ns_get16(data);
            r->weight = ns_get16(data + 2);
            r->port = ns_get16(data + 4);
            if (dn_expand(ns_msg_base(message), ns_msg_end(message), data + 6, r->text, sizeof r->text) < 0) {
                *error = KT_DNS_BAD_ANSWER;
                return -1;
            }
        } else {
            *error = KT_DNS_BAD_ANSWER;
            return -1;
        }
        found++;
    }
    if (found == 0) {
        *error = KT_DNS_NO_DATA;
        return -1;
    }
    return found;
}
