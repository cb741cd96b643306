package io.machxp.sim;

import io.machxp.proto.replica.PagerLogEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Raft log of a simulated replicated pager, in virtual time: what Apache Ratis does for the
 * real one ({@code machxp pager --replicas}), modelled so that it runs seeded on the simulator's
 * one thread. Each replica is a {@link Member} that applies committed entries in log order.
 *
 * <h2>Overview</h2>
 * <pre>
 *  role       FOLLOWER ──(no leader heard for its election timeout)──▶ CANDIDATE (term + 1, votes
 *             for itself, asks the others) ──(a majority votes)──▶ LEADER (appends a no-op of its
 *             term; it is ready once that is applied) ──(it hears a higher term, or no majority
 *             answered it for the longest election timeout)──▶ FOLLOWER
 *  vote       granted once per term, to a candidate whose log is at least as up to date (last
 *             entry's term, then length): only a replica with every committed entry can lead
 *  append     the leader appends to its log and sends each follower what it lacks; a follower
 *             whose log disagrees at the previous entry refuses and is sent more; a follower
 *             overwrites entries that conflict (a deposed leader's uncommitted ones are lost)
 *  commit     an entry of the leader's term held by a majority; followers learn the commit index
 *             from the leader's next message (a heartbeat every {@link Timing#heartbeatNanos})
 *  apply      every replica applies committed entries in order; the leader's append completes
 *             (true) once applied there, and fails (false) when it stops leading first
 *  links      replica to replica: latency plus seeded jitter; a message is lost when its
 *             sender or receiver is down or restarted, or the two are partitioned when it is
 *             sent or when it arrives (Raft sends again)
 *  crash      the replica's log, term and vote survive (Ratis syncs them before it answers);
 *             its commit index, its applied state and its member do not: restarted, it applies
 *             its log again as it learns what is committed
 * </pre>
 */
final class SimRaft {
    /** The replica above the log: applies committed entries, and hears of leader changes. */
    interface Member {
        /** A committed entry, in log order (null: a leader's no-op). */
        void apply(PagerLogEntry entry);

        /** The leader this replica knows changed: {@code leader}, or -1 for none known. */
        void leaderChanged(int leader);
    }

    /** The model's times: election timeouts drawn in [min, max], heartbeats, replica links. */
    record Timing(long electionMinNanos, long electionMaxNanos, long heartbeatNanos, long latencyNanos,
            long jitterNanos) {}

    enum Role { FOLLOWER, CANDIDATE, LEADER }

    private record Entry(long term, PagerLogEntry entry) {}

    private record Pending(int index, long term, CompletableFuture<Boolean> done) {}

    /** One replica's Raft state. */
    private final class Node {
        final int id;
        boolean up = true;
        int incarnation;
        long term;
        int votedFor = -1;
        final List<Entry> log = new ArrayList<>();
        int commit;
        int applied;
        Role role = Role.FOLLOWER;
        int leader = -1;
        long electionDue;
        int votes;
        /** Leader: the first index of its term (its no-op), next to send and known held, per follower. */
        int termStart;
        int[] next;
        int[] match;
        long[] heardAt;
        final List<Pending> pending = new ArrayList<>();
        Member member;

        Node(int id) {
            this.id = id;
        }

        long lastTerm() {
            return log.isEmpty() ? 0 : log.get(log.size() - 1).term;
        }

        long termAt(int index) {
            return index == 0 ? 0 : log.get(index - 1).term;
        }
    }

    private final SimCluster cluster;
    private final Timing timing;
    private final Node[] nodes;
    /** Until when the link between two replicas is cut (symmetric). */
    private final long[][] cutUntil;
    /** Until when each replica's process is stopped (SIGSTOP): its timers do nothing. */
    private final long[] stoppedUntil;
    private long leaderChanges;

    SimRaft(SimCluster cluster, int replicas, Timing timing) {
        this.cluster = cluster;
        this.timing = timing;
        this.nodes = new Node[replicas];
        this.cutUntil = new long[replicas][replicas];
        this.stoppedUntil = new long[replicas];
        for (int i = 0; i < replicas; i++) {
            nodes[i] = new Node(i);
        }
    }

    /** Starts replica {@code id} with {@code member} (at the start, or a restart after {@link #crash}). */
    void start(int id, Member member) {
        Node n = nodes[id];
        n.up = true;
        n.member = member;
        n.role = Role.FOLLOWER;
        n.leader = -1;
        n.commit = 0;
        n.applied = 0;
        resetElection(n);
        armElection(n, n.incarnation);
    }

    /** Replica {@code id} stops dead: what it was sending or was sent is lost; its log survives. */
    void crash(int id) {
        Node n = nodes[id];
        n.up = false;
        n.incarnation++;
        n.pending.clear(); // its process is gone: nobody waits for these
        n.role = Role.FOLLOWER;
        n.member = null;
    }

    /**
     * Replica {@code id} is stopped (SIGSTOP) until {@code until}: cut off from the others, and its
     * timers do nothing (it neither campaigns nor steps down until it runs again).
     */
    void stop(int id, long until) {
        stoppedUntil[id] = Math.max(stoppedUntil[id], until);
        partition(List.of(id), until);
    }

    private boolean stopped(Node n) {
        return cluster.now() < stoppedUntil[n.id];
    }

    /** Cuts the links between the replicas of {@code side} and all others until {@code until}. */
    void partition(List<Integer> side, long until) {
        for (int a : side) {
            for (int b = 0; b < nodes.length; b++) {
                if (!side.contains(b)) {
                    cutUntil[a][b] = Math.max(cutUntil[a][b], until);
                    cutUntil[b][a] = Math.max(cutUntil[b][a], until);
                }
            }
        }
    }

    int size() {
        return nodes.length;
    }

    boolean up(int id) {
        return nodes[id].up;
    }

    Role role(int id) {
        return nodes[id].role;
    }

    long term(int id) {
        return nodes[id].term;
    }

    /** The leader replica {@code id} knows, or -1. */
    int leaderOf(int id) {
        return nodes[id].leader;
    }

    /** Whether {@code id} leads and has applied its term's first entry (Ratis: the leader is ready). */
    boolean leaderReady(int id) {
        Node n = nodes[id];
        return n.up && n.role == Role.LEADER && n.applied >= n.termStart;
    }

    /** The replica that leads and is ready, or -1. */
    int readyLeader() {
        int found = -1;
        long term = -1;
        for (Node n : nodes) {
            if (leaderReady(n.id) && n.term > term) {
                found = n.id;
                term = n.term;
            }
        }
        return found;
    }

    long leaderChanges() {
        return leaderChanges;
    }

    /**
     * The leader {@code id} appends {@code entry}: completes true once committed and applied here,
     * false if it is not a ready leader or stops leading first (as Ratis's client without retries).
     */
    CompletableFuture<Boolean> append(int id, PagerLogEntry entry) {
        Node n = nodes[id];
        if (!leaderReady(id)) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        n.log.add(new Entry(n.term, entry));
        n.pending.add(new Pending(n.log.size(), n.term, done));
        for (Node f : nodes) {
            if (f != n) {
                replicate(n, f);
            }
        }
        return done;
    }

    // ---- elections ----------------------------------------------------------------------------

    private void resetElection(Node n) {
        n.electionDue = cluster.now() + timing.electionMinNanos()
                + cluster.random().nextLong(timing.electionMaxNanos() - timing.electionMinNanos() + 1);
    }

    /** The election timer: fires at the due time; a leader heard meanwhile has pushed it later. */
    private void armElection(Node n, int incarnation) {
        long at = n.role == Role.LEADER ? cluster.now() + timing.electionMaxNanos() : n.electionDue;
        cluster.schedule(at, () -> {
            if (!n.up || n.incarnation != incarnation) {
                return;
            }
            if (n.role != Role.LEADER && cluster.now() >= n.electionDue && !stopped(n)) {
                campaign(n);
            }
            armElection(n, incarnation);
        });
    }

    private void campaign(Node n) {
        n.term++;
        n.role = Role.CANDIDATE;
        n.votedFor = n.id;
        n.votes = 1;
        setLeader(n, -1);
        resetElection(n);
        long term = n.term;
        int lastIndex = n.log.size();
        long lastTerm = n.lastTerm();
        for (Node v : nodes) {
            if (v != n) {
                send(n, v, () -> vote(v, n, term, lastIndex, lastTerm));
            }
        }
    }

    private void vote(Node v, Node candidate, long term, int lastIndex, long lastTerm) {
        if (term > v.term) {
            stepDown(v, term);
        }
        boolean upToDate = lastTerm > v.lastTerm() || (lastTerm == v.lastTerm() && lastIndex >= v.log.size());
        boolean granted = term == v.term && (v.votedFor == -1 || v.votedFor == candidate.id) && upToDate;
        if (granted) {
            v.votedFor = candidate.id;
            resetElection(v);
        }
        long answerTerm = v.term;
        send(v, candidate, () -> voted(candidate, answerTerm, granted));
    }

    private void voted(Node c, long term, boolean granted) {
        if (term > c.term) {
            stepDown(c, term);
        } else if (c.role == Role.CANDIDATE && term == c.term && granted && ++c.votes > nodes.length / 2) {
            lead(c);
        }
    }

    private void lead(Node n) {
        n.role = Role.LEADER;
        n.next = new int[nodes.length];
        n.match = new int[nodes.length];
        n.heardAt = new long[nodes.length];
        java.util.Arrays.fill(n.next, n.log.size() + 1);
        java.util.Arrays.fill(n.heardAt, cluster.now());
        n.log.add(new Entry(n.term, null)); // the no-op that commits what earlier terms left
        n.termStart = n.log.size();
        n.match[n.id] = n.log.size();
        leaderChanges++;
        setLeader(n, n.id);
        heartbeat(n, n.term, n.incarnation);
    }

    /** A higher term was seen, or a leader lost its majority: a follower, with pending appends failed. */
    private void stepDown(Node n, long term) {
        boolean changed = n.role != Role.FOLLOWER || term > n.term;
        if (term > n.term) {
            n.term = term;
            n.votedFor = -1;
        }
        if (n.role != Role.FOLLOWER) {
            n.role = Role.FOLLOWER;
            resetElection(n);
        }
        for (Pending p : List.copyOf(n.pending)) {
            p.done.complete(false);
        }
        n.pending.clear();
        if (changed) {
            setLeader(n, -1);
        }
    }

    private void setLeader(Node n, int leader) {
        if (n.leader != leader) {
            n.leader = leader;
            if (n.member != null) {
                n.member.leaderChanged(leader);
            }
        }
    }

    // ---- replication --------------------------------------------------------------------------

    /** The leader's beat: every follower is sent what it lacks (or nothing: a heartbeat); a leader without a majority steps down. */
    private void heartbeat(Node n, long term, int incarnation) {
        if (!n.up || n.incarnation != incarnation || n.role != Role.LEADER || n.term != term) {
            return;
        }
        if (stopped(n)) {
            cluster.schedule(cluster.now() + timing.heartbeatNanos(), () -> heartbeat(n, term, incarnation));
            return;
        }
        int heard = 1;
        for (Node f : nodes) {
            if (f != n && cluster.now() - n.heardAt[f.id] <= timing.electionMaxNanos()) {
                heard++;
            }
        }
        if (heard <= nodes.length / 2) {
            stepDown(n, n.term);
            return;
        }
        for (Node f : nodes) {
            if (f != n) {
                replicate(n, f);
            }
        }
        cluster.schedule(cluster.now() + timing.heartbeatNanos(), () -> heartbeat(n, term, incarnation));
    }

    private void replicate(Node l, Node f) {
        int prev = l.next[f.id] - 1;
        long prevTerm = l.termAt(prev);
        List<Entry> entries = List.copyOf(l.log.subList(prev, l.log.size()));
        long term = l.term;
        int commit = l.commit;
        l.next[f.id] = l.log.size() + 1; // pipelined: a refusal sends it back
        send(l, f, () -> appendEntries(f, l, term, prev, prevTerm, entries, commit));
    }

    private void appendEntries(Node f, Node l, long term, int prev, long prevTerm, List<Entry> entries, int commit) {
        if (term < f.term) {
            long answerTerm = f.term;
            send(f, l, () -> appended(l, f, answerTerm, false, 0));
            return;
        }
        if (term > f.term || f.role != Role.FOLLOWER) {
            stepDown(f, term);
        }
        resetElection(f);
        setLeader(f, l.id);
        if (prev > f.log.size() || f.termAt(prev) != prevTerm) {
            int hint = Math.min(f.log.size(), prev - 1);
            send(f, l, () -> appended(l, f, term, false, Math.max(0, hint)));
            return;
        }
        for (int i = 0; i < entries.size(); i++) {
            int index = prev + 1 + i;
            if (index <= f.log.size() && f.termAt(index) != entries.get(i).term) {
                f.log.subList(index - 1, f.log.size()).clear(); // a deposed leader's uncommitted entries
            }
            if (index > f.log.size()) {
                f.log.add(entries.get(i));
            }
        }
        int last = prev + entries.size();
        if (commit > f.commit) {
            f.commit = Math.max(f.commit, Math.min(commit, last));
            applyCommitted(f);
        }
        send(f, l, () -> appended(l, f, term, true, last));
    }

    private void appended(Node l, Node f, long term, boolean ok, int index) {
        if (term > l.term) {
            stepDown(l, term);
            return;
        }
        if (l.role != Role.LEADER || term != l.term) {
            return;
        }
        l.heardAt[f.id] = cluster.now();
        if (!ok) {
            l.next[f.id] = Math.min(l.next[f.id], index + 1);
            replicate(l, f);
            return;
        }
        l.match[f.id] = Math.max(l.match[f.id], index);
        l.match[l.id] = l.log.size();
        for (int n = l.log.size(); n > l.commit; n--) {
            int held = 0;
            for (int m : l.match) {
                held += m >= n ? 1 : 0;
            }
            if (l.termAt(n) == l.term && held > nodes.length / 2) {
                l.commit = n;
                applyCommitted(l);
                break;
            }
        }
    }

    private void applyCommitted(Node n) {
        while (n.applied < n.commit && n.up) {
            n.applied++;
            n.member.apply(n.log.get(n.applied - 1).entry);
            while (!n.pending.isEmpty() && n.pending.get(0).index <= n.applied) {
                Pending p = n.pending.remove(0);
                p.done.complete(p.term == n.termAt(p.index));
            }
        }
    }

    /** A message between replicas: lost if either is down or restarted, or they are cut apart. */
    private void send(Node from, Node to, Runnable receive) {
        long now = cluster.now();
        if (!from.up || !to.up || cutUntil[from.id][to.id] > now) {
            return;
        }
        int fromIncarnation = from.incarnation;
        int toIncarnation = to.incarnation;
        long delay = timing.latencyNanos() + cluster.random().nextLong(timing.jitterNanos() + 1);
        cluster.schedule(now + delay, () -> {
            if (from.up && to.up && from.incarnation == fromIncarnation && to.incarnation == toIncarnation
                    && cutUntil[from.id][to.id] <= cluster.now()) {
                receive.run();
            }
        });
    }
}
