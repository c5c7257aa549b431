/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-ike-load: options, the two UDP sockets (IKE port and NAT-T port of --local), the loop
 * (poll, receive, retransmission scans every 10 ms), the measurement and its report; the IKE SAs
 * themselves are ike_load.c's. Used by scripts/bench-ike.sh against charon and dvipsec-ike.
 *
 * After --warmup seconds it counts for --duration seconds and prints one line (stdout):
 *
 *   result rate=R setups=N seconds=S failures=F timeouts=T retransmits=X cookies=C
 *          stray=Y latency_ms_p50=.. latency_ms_p99=.. initiator_cpu=P responder_cpu=Q other_cpu=O
 *          window=W
 *
 * (responder_cpu: user+system time of --watch-pid over the same interval, in percent of one CPU,
 * all its threads; -1 without it; other_cpu: what every CPU did besides the two, from /proc/stat:
 * other processes and interrupts, the noise of the run), then the failures by reason and the
 * error notifies received.
 * IPv4 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "ike_load.h"

#define RX_BURST 64
#define SCAN_NS	 (10 * 1000000ULL)   /* retransmission scan period */
#define DRAIN_NS (3 * 1000000000ULL) /* after the measurement: Deletes still answered */

static const char *const fail_names[] = {
#define FAIL_NAME(name, desc) #name,
	LOAD_FAILURES(FAIL_NAME)
#undef FAIL_NAME
};

/* ---- receiving --------------------------------------------------------------------------------
 */

static void
drain(struct load *l, int i)
{
	for (int k = 0; k < RX_BURST; k++) {
		ssize_t n = recv(l->fd[i], l->rx, sizeof(l->rx), 0);
		const uint8_t *ike = l->rx;
		size_t len;

		if (n < 0)
			return;
		len = (size_t)n;
		if (i == 1 && ike_udp4500_classify(l->rx, len, &ike, &len) != IKE_UDP_IKE)
			continue;
		load_input(l, l->rx + (ike - l->rx), len, load_now_ns());
	}
}

/* ---- set-up, measurement, report ------------------------------------------------------------
 */

static int
bind_udp(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = 4 << 20;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* CPU seconds (user + system, all threads) of pid so far; -1 when unreadable. */
static double
pid_cpu_s(long pid)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* CPU seconds every CPU spent busy so far (all but idle and iowait); -1 when unreadable. */
static double
busy_cpu_s(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

struct mark {
	uint64_t ns;
	struct load_stats st;
	double self_cpu, peer_cpu, busy_cpu;
};

static void
take_mark(const struct load *l, struct mark *m)
{
	m->ns = load_now_ns();
	m->st = l->st;
	m->self_cpu = self_cpu_s();
	m->peer_cpu = pid_cpu_s(l->o.watch_pid);
	m->busy_cpu = busy_cpu_s();
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
sum_fail(const struct load_stats *s)
{
	uint64_t n = 0;

	for (int i = 0; i < FAIL_COUNT; i++)
		n += s->fail[i];
	return n;
}

static void
report(struct load *l, const struct mark *a, const struct mark *b)
{
	double secs = (double)(b->ns - a->ns) * 1e-9;
	double p50 = 0, p99 = 0, peer = -1, other = -1;
	uint64_t setups = b->st.setups - a->st.setups;

	if (l->n_lat > 0) {
		qsort(l->lat_us, l->n_lat, sizeof(*l->lat_us), cmp_u32);
		p50 = l->lat_us[l->n_lat / 2] / 1000.0;
		p99 = l->lat_us[l->n_lat * 99 / 100] / 1000.0;
	}
	if (a->peer_cpu >= 0 && b->peer_cpu >= 0)
		peer = 100.0 * (b->peer_cpu - a->peer_cpu) / secs;
	/* everything else the machine did meanwhile (other processes, softirqs): the noise */
	if (peer >= 0 && a->busy_cpu >= 0 && b->busy_cpu >= 0)
		other = 100.0 * (b->busy_cpu - a->busy_cpu) / secs - peer -
			100.0 * (b->self_cpu - a->self_cpu) / secs;
	printf("result rate=%.0f setups=%llu seconds=%.2f failures=%llu timeouts=%llu "
	       "retransmits=%llu cookies=%llu stray=%llu latency_ms_p50=%.2f latency_ms_p99=%.2f "
	       "initiator_cpu=%.1f responder_cpu=%.1f other_cpu=%.1f window=%u\n",
	       setups / secs, (unsigned long long)setups, secs,
	       (unsigned long long)(sum_fail(&b->st) - sum_fail(&a->st)),
	       (unsigned long long)(b->st.fail[FAIL_timeout] - a->st.fail[FAIL_timeout]),
	       (unsigned long long)(b->st.retransmits - a->st.retransmits),
	       (unsigned long long)(b->st.cookies - a->st.cookies),
	       (unsigned long long)(b->st.stray - a->st.stray), p50, p99,
	       100.0 * (b->self_cpu - a->self_cpu) / secs, peer, other, l->o.window);
	printf("failures");
	for (int i = 0; i < FAIL_COUNT; i++)
		printf(" %s=%llu", fail_names[i],
		       (unsigned long long)(b->st.fail[i] - a->st.fail[i]));
	printf("\nnotifies");
	for (int t = 0; t < NOTIFY_TYPES; t++) {
		uint64_t n = b->st.notify[t] - a->st.notify[t];

		if (n != 0)
			printf(" %s=%llu", t == 0 ? "other" : ike_notify_name((uint16_t)t),
			       (unsigned long long)n);
	}
	printf("\ntotals started=%llu setups=%llu deletes=%llu delete_timeouts=%llu "
	       "responder_requests=%llu bad_icv=%llu bad_message=%llu\n",
	       (unsigned long long)l->st.started, (unsigned long long)l->st.setups,
	       (unsigned long long)l->st.deletes, (unsigned long long)l->st.delete_timeouts,
	       (unsigned long long)l->st.requests, (unsigned long long)l->st.bad_icv,
	       (unsigned long long)l->st.bad_message);
	fflush(stdout);
}

static void
progress(const struct load *l, const struct mark *prev, uint64_t t0)
{
	struct mark m;
	double secs;

	take_mark(l, &m);
	secs = (double)(m.ns - prev->ns) * 1e-9;
	fprintf(stderr,
		"t=%5.1fs %7.0f set-ups/s  in flight %u  failures %llu  retransmits %llu  "
		"responder cpu %.0f%%\n",
		(double)(m.ns - t0) * 1e-9, (double)(m.st.setups - prev->st.setups) / secs,
		l->inflight, (unsigned long long)(sum_fail(&m.st) - sum_fail(&prev->st)),
		(unsigned long long)(m.st.retransmits - prev->st.retransmits),
		prev->peer_cpu >= 0 && m.peer_cpu >= 0
			? 100.0 * (m.peer_cpu - prev->peer_cpu) / secs
			: -1.0);
}

static int
run(struct load *l)
{
	struct mark start = { 0 }, end = { 0 }, last;
	uint64_t t0 = load_now_ns(), warm_end, stop, drain_end = 0, next_scan = 0, next_progress;
	struct pollfd pfd[2] = { { .fd = l->fd[0], .events = POLLIN },
				 { .fd = l->fd[1], .events = POLLIN } };

	warm_end = t0 + (uint64_t)(l->o.warmup_s * 1e9);
	stop = warm_end + (uint64_t)(l->o.duration_s * 1e9);
	next_progress = t0 + 1000000000ULL;
	take_mark(l, &last);
	l->running = true;
	for (unsigned i = 0; i < l->o.window; i++)
		load_start(l, &l->slots[i], t0);
	for (;;) {
		uint64_t now = load_now_ns();
		int wait_ms = (int)(SCAN_NS / 1000000);

		if (!l->counting && l->running && now >= warm_end) {
			take_mark(l, &start);
			l->counting = true;
		}
		if (l->counting && now >= stop) {
			take_mark(l, &end);
			l->counting = false;
			l->running = false;
			drain_end = now + DRAIN_NS;
		}
		if (!l->running && (l->inflight == 0 || now >= drain_end))
			break;
		if (l->o.progress && now >= next_progress) {
			progress(l, &last, t0);
			take_mark(l, &last);
			next_progress += 1000000000ULL;
		}
		if (now >= next_scan) {
			load_scan(l, now);
			next_scan = now + SCAN_NS;
		}
		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				drain(l, i);
	}
	report(l, &start, &end);
	return end.st.setups > start.st.setups ? 0 : 1;
}

/* ---- options ---------------------------------------------------------------------------------
 */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvipsec-ike-load --local ADDR --remote ADDR --id ID --peer-id ID --psk-hex "
		"HEX\n"
		"         [--window N] [--duration S] [--warmup S] [--tsi CIDR] [--tsr CIDR]\n"
		"         [--local-port P] [--local-natt-port P] [--remote-port P]\n"
		"         [--remote-natt-port P] [--retransmit-ms MS] [--tries N] [--no-delete]\n"
		"         [--fresh-dh] [--real-nat] [--watch-pid PID] [--progress]\n"
		"IKE_SA_INIT + IKE_AUTH (PSK, X25519, AES-GCM-16-128, PRF HMAC-SHA2-256, one\n"
		"tunnel-mode ESP AES-GCM-16-128 CHILD SA TSi<->TSr) + Delete, --window of them in\n"
		"flight, against the IKEv2 responder at ADDR. IDs: FQDN or user@domain. IPv4.\n"
		"Defaults: window 64, duration 10, warmup 1, tsi 10.100.0.0/16, tsr "
		"10.200.0.0/16,\n"
		"ports 500/4500 both sides, retransmit 1000 ms doubling, 3 tries.\n");
}

static int
bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "dvipsec-ike-load: %s \"%s\": expected %s\n", opt, val, want);
	return -EINVAL;
}

static int
parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || *out < lo || *out > hi)
		return bad(opt, s, "a number in range");
	return 0;
}

static int
parse_cidr(const char *opt, const char *s, uint32_t *net, uint32_t *mask)
{
	char buf[64], *slash;
	struct in_addr a;
	double plen = 32;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1 ||
	    (slash != NULL && parse_num(opt, slash, 0, 32, &plen) < 0))
		return bad(opt, s, "an IPv4 ADDR/PREFIXLEN");
	*mask = plen == 0 ? 0 : htonl(~0U << (32 - (unsigned)plen));
	*net = a.s_addr & *mask;
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' },
		{ "peer-id", required_argument, NULL, 'p' },
		{ "psk-hex", required_argument, NULL, 'k' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "tsi", required_argument, NULL, 'I' },
		{ "tsr", required_argument, NULL, 'R' },
		{ "local-port", required_argument, NULL, '1' },
		{ "local-natt-port", required_argument, NULL, '2' },
		{ "remote-port", required_argument, NULL, '3' },
		{ "remote-natt-port", required_argument, NULL, '4' },
		{ "retransmit-ms", required_argument, NULL, 't' },
		{ "tries", required_argument, NULL, 'T' },
		{ "no-delete", no_argument, NULL, 'n' },
		{ "fresh-dh", no_argument, NULL, 'f' },
		{ "real-nat", no_argument, NULL, 'N' },
		{ "watch-pid", required_argument, NULL, 'P' },
		{ "progress", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint16_t *ports[] = { &o->local_port, &o->local_natt_port, &o->remote_port,
			      &o->remote_natt_port };
	bool has_local = false, has_remote = false;
	double v;
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 'r':
			if (inet_pton(AF_INET, optarg, c == 'l' ? &o->local : &o->remote) != 1)
				rc = bad(c == 'l' ? "--local" : "--remote", optarg,
					 "an IPv4 address");
			*(c == 'l' ? &has_local : &has_remote) = true;
			break;
		case 'i':
		case 'p':
			if (strlen(optarg) == 0 || strlen(optarg) > 255)
				rc = bad(c == 'i' ? "--id" : "--peer-id", optarg,
					 "1..255 characters");
			else
				snprintf(c == 'i' ? o->id : o->peer_id, sizeof(o->id), "%s",
					 optarg);
			break;
		case 'k':
			if (sodium_hex2bin(o->psk, sizeof(o->psk), optarg, strlen(optarg), NULL,
					   &o->psk_len, NULL) != 0 ||
			    o->psk_len * 2 != strlen(optarg) || o->psk_len == 0)
				rc = bad("--psk-hex", optarg, "1..128 hex bytes");
			break;
		case 'w':
			rc = parse_num("--window", optarg, 1, MAX_WINDOW, &v);
			o->window = (unsigned)v;
			break;
		case 'd':
			rc = parse_num("--duration", optarg, 0.1, 86400, &o->duration_s);
			break;
		case 'W':
			rc = parse_num("--warmup", optarg, 0, 3600, &o->warmup_s);
			break;
		case 'I':
			rc = parse_cidr("--tsi", optarg, &o->tsi_net, &o->tsi_mask);
			break;
		case 'R':
			rc = parse_cidr("--tsr", optarg, &o->tsr_net, &o->tsr_mask);
			break;
		case '1':
		case '2':
		case '3':
		case '4':
			rc = parse_num("--*-port", optarg, 1, 65535, &v);
			*ports[c - '1'] = (uint16_t)v;
			break;
		case 't':
			rc = parse_num("--retransmit-ms", optarg, 1, 60000, &v);
			o->retransmit_ms = (unsigned)v;
			break;
		case 'T':
			rc = parse_num("--tries", optarg, 0, 20, &v);
			o->tries = (unsigned)v;
			break;
		case 'n':
			o->no_delete = true;
			break;
		case 'f':
			o->fresh_dh = true;
			break;
		case 'N':
			o->real_nat = true;
			break;
		case 'P':
			rc = parse_num("--watch-pid", optarg, 1, 4194304, &v);
			o->watch_pid = (long)v;
			break;
		case 'g':
			o->progress = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc < 0)
		return rc;
	if (optind != argc || !has_local || !has_remote || o->id[0] == '\0' ||
	    o->peer_id[0] == '\0' || o->psk_len == 0) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct load *l = calloc(1, sizeof(*l));
	int rc, status = 2;

	if (l == NULL || sodium_init() < 0)
		return 2;
	l->fd[0] = l->fd[1] = -1;
	l->o = (struct opts){ .local_port = 500,
			      .local_natt_port = 4500,
			      .remote_port = 500,
			      .remote_natt_port = 4500,
			      .window = 64,
			      .duration_s = 10,
			      .warmup_s = 1,
			      .retransmit_ms = 1000,
			      .tries = 3 };
	parse_cidr("", "10.100.0.0/16", &l->o.tsi_net, &l->o.tsi_mask);
	parse_cidr("", "10.200.0.0/16", &l->o.tsr_net, &l->o.tsr_mask);
	if (parse(argc, argv, &l->o) < 0)
		goto out;
	status = 1;
	l->slots = calloc(l->o.window, sizeof(*l->slots));
	rc = l->slots == NULL ? -ENOMEM : ike_crypto_create(&l->cx);
	if (rc < 0) {
		fprintf(stderr, "dvipsec-ike-load: crypto: %s\n", strerror(-rc));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		l->fd[i] = bind_udp(l->o.local, i ? l->o.local_natt_port : l->o.local_port);
		if (l->fd[i] < 0) {
			fprintf(stderr, "dvipsec-ike-load: bind port %u: %s\n",
				i ? l->o.local_natt_port : l->o.local_port, strerror(-l->fd[i]));
			goto out;
		}
	}
	randombytes_buf(l->dh_sk, sizeof(l->dh_sk));
	crypto_scalarmult_base(l->dh_pk, l->dh_sk);
	rc = run(l);
	if (rc < 0)
		fprintf(stderr, "dvipsec-ike-load: poll: %s\n", strerror(-rc));
	status = rc == 0 ? 0 : 1;
out:
	for (int i = 0; i < 2; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	if (l->slots != NULL)
		for (unsigned i = 0; i < l->o.window; i++)
			ike_keys_free(l->slots[i].keys);
	ike_crypto_free(l->cx);
	sodium_memzero(l->dh_sk, sizeof(l->dh_sk));
	sodium_memzero(l->o.psk, sizeof(l->o.psk));
	free(l->slots);
	free(l->lat_us);
	free(l);
	return status;
}
