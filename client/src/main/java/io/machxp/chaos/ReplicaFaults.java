package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.sim.SimReplicaGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The faults of a replicated pager's replicas in a chaos run ({@code --replicas 3} or 5), in the
 * place of an unreplicated pager's crash and clock jump:
 * <ul>
 *   <li>the leader crashes, and restarts a while later (L/50 to 3 L) as a follower that catches
 *       up; the others elect a new leader and kernels resume their sessions there; one time in
 *       four the election is slow: the survivors are also cut in halves without a majority for
 *       0.5 to 1.1 L, so that kernels' leases run out while they resume and they hold their
 *       grace (kernel LeaseGrace) until the new leader, which extends their sessions, takes their
 *       resumes;</li>
 *   <li>a follower crashes and restarts the same way;</li>
 *   <li>the leader is stopped (SIGSTOP) for L/20 to 1.05 L: cut off from the others, its kernels'
 *       connections up but silent; kernels whose resume there goes unanswered try the next
 *       replica;</li>
 *   <li>a minority of the replicas is cut off from the rest for L/20 to 3 L (kernels still reach
 *       every replica): with the leader in it, the majority elects another, and the old leader,
 *       unable to commit, steps down and ends its kernels' streams; without it, the cut-off
 *       followers fall behind (and, at the heal, their higher terms may depose the leader).</li>
 *   <li>every replica's wall clock steps once (NTP stepping it, date -s, a VM restored), at a time
 *       drawn over the run, by L/2 to 10 L, back one time in four ({@link #planWallClockSteps}):
 *       the group clock reads no wall clock (GroupClock), so nothing may change for kernels.</li>
 * </ul>
 * One replica fault at a time (the wall clock steps come on their own), each only while no survivable kernel fault is in effect (a
 * failover and a survivable partition could add up to a fatal outage), as for a pager crash, and
 * no kernel doomed by a fatal one is still to be declared dead (the new leader's takeover
 * extension and the kernel's grace could keep its session; ChaosFaults also cuts off or pauses
 * no kernel while a failover is under way).
 * Every fault is recorded in the history for the reader; none changes what the checker allows:
 * the group loses nothing it acknowledged, so no futex may be lost and no grace period runs.
 */
final class ReplicaFaults {
    private final ChaosRun run;
    private final SimReplicaGroup group;
    private final long lease;
    /** Its own draws, split from the run's (whose seeds overlap: seed s + 1 draws what seed s draws next). */
    private final java.util.SplittableRandom random;
    /** A replica fault (or its restart and catching up) is in effect until then. */
    private long busyUntil;

    ReplicaFaults(ChaosRun run, SimReplicaGroup group) {
        this.run = run;
        this.group = group;
        this.lease = run.options.leaseNanos();
        this.random = run.random.split();
    }

    /**
     * Plans one wall clock step of every replica: at a time drawn over the run, by {@code fixedLeases}
     * leases, or (null) by L/2 to 10 L, back one time in four. Drawn from a generator of its own,
     * seeded from the run's seed, so that the other faults are drawn as in a run without steps.
     */
    void planWallClockSteps(Double fixedLeases) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(run.seed ^ 0x5EED_C10CL).split();
        for (int i = 0; i < group.size(); i++) {
            int replica = i;
            long at = r.nextLong(run.options.durationNanos());
            long size = fixedLeases != null ? (long) (fixedLeases * lease)
                    : (r.nextInt(4) == 0 ? -1 : 1) * (lease / 2 + r.nextLong(10 * lease - lease / 2));
            run.cluster.at(at, () -> {
                note(String.format(Locale.ROOT, "replica %s's wall clock steps %+.3f ms", SimReplicaGroup.name(replica),
                        size / 1e6));
                group.stepWallClock(replica, size);
                run.count("replica wall clock steps");
            });
        }
    }

    /** The most later than an unreplicated pager the group may declare a kernel dead. */
    long declarationLag() {
        return group.declarationLagNanos();
    }

    /**
     * Injects a replica fault if none is in effect and the kernels are quiet; returns until when
     * its effect on kernels lasts (failover and recovery), or 0 if it injected none that has one.
     */
    long inject(boolean quietCluster) {
        long now = run.cluster.now();
        int leader = group.leader();
        if (now < busyUntil || !quietCluster || leader < 0) {
            return 0;
        }
        long failover = group.failoverNanos();
        int what = random.nextInt(100);
        if (what < 40) {
            long down = downtime();
            note(String.format(Locale.ROOT, "replica %s (leader) crashes, down %.3f ms", SimReplicaGroup.name(leader), down / 1e6));
            group.crash(leader, down);
            run.count("replica leader crashes");
            long slow = 0;
            if (random.nextInt(4) == 0) {
                // A slow election: the survivors are cut in halves that have no majority, for 0.5
                // to 1.1 L, longer than a lease allows (0.675 L), within the kernels' grace.
                List<Integer> half = followers(leader, (group.size() - 1) / 2);
                slow = lease / 2 + random.nextLong(3 * lease / 5);
                note(String.format(Locale.ROOT, "a slow election: replicas %s cut off from the others for %.3f ms", names(half),
                        slow / 1e6));
                group.partition(half, slow);
                run.count("replica leader crashes with a slow election");
            }
            busyUntil = now + Math.max(down, slow) + failover + lease;
            return now + slow + failover + lease;
        }
        if (what < 55) {
            int f = (leader + 1 + random.nextInt(group.size() - 1)) % group.size();
            long down = downtime();
            note(String.format(Locale.ROOT, "replica %s (follower) crashes, down %.3f ms", SimReplicaGroup.name(f), down / 1e6));
            group.crash(f, down);
            run.count("replica follower crashes");
            busyUntil = now + down + failover + lease;
            return 0;
        }
        if (what < 70) {
            long nanos = lease / 20 + random.nextLong(lease);
            note(String.format(Locale.ROOT, "replica %s (leader) stopped for %.3f ms", SimReplicaGroup.name(leader), nanos / 1e6));
            group.pause(leader, nanos);
            run.count("replica leader pauses");
            busyUntil = now + nanos + failover + lease;
            return busyUntil; // when it runs again, it steps down (it heard no majority) and follows the new leader
        }
        List<Integer> side = minority(leader, random.nextBoolean());
        long nanos = lease / 20 + random.nextLong(3 * lease);
        note(String.format(Locale.ROOT, "replicas %s cut off from the others for %.3f ms (%s)", names(side), nanos / 1e6,
                side.contains(leader) ? "the leader among them" : "followers"));
        group.partition(side, nanos);
        run.count(side.contains(leader) ? "replica partitions, leader cut off" : "replica partitions, followers cut off");
        busyUntil = now + nanos + failover + lease;
        return busyUntil; // at the heal, a cut-off replica's higher term may depose the leader
    }

    private long downtime() {
        return lease / 50 + random.nextLong(3 * lease);
    }

    /** A minority of the replicas (1 of 3; 1 or 2 of 5), with the leader in it or not. */
    private List<Integer> minority(int leader, boolean withLeader) {
        int n = group.size();
        int size = 1 + random.nextInt((n - 1) / 2);
        List<Integer> others = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i != leader) {
                others.add(i);
            }
        }
        List<Integer> side = new ArrayList<>();
        if (withLeader) {
            side.add(leader);
        }
        while (side.size() < size) {
            side.add(others.remove(random.nextInt(others.size())));
        }
        return side;
    }

    /** {@code count} replicas other than {@code leader}, drawn at random. */
    private List<Integer> followers(int leader, int count) {
        List<Integer> others = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            if (i != leader) {
                others.add(i);
            }
        }
        List<Integer> side = new ArrayList<>();
        while (side.size() < count) {
            side.add(others.remove(random.nextInt(others.size())));
        }
        return side;
    }

    private static String names(List<Integer> side) {
        return side.stream().map(SimReplicaGroup::name).toList().toString();
    }

    private void note(String what) {
        run.history.add(run.cluster.now(), Kind.PAGER, "pager", -1, 0, false, what);
    }
}
