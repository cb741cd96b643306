package io.machxp.chaos.ipc;

import io.machxp.chaos.FaultBounds;
import io.machxp.chaos.ipc.IpcChaosRun.PortFate;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import io.machxp.sim.SimKernel;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.MsgType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The faults of an IPC chaos run and the harness's record of what each does to ports. One at a
 * time, at exponentially spread times during the run's duration:
 * <ul>
 *   <li>a kernel crashes (20 %; while more than two live): its tasks are gone, the ports its
 *       server held die, a port in transit from it or that ever lived on it may be dead for some
 *       kernels (its frames on the links are lost; proxies pointing through it die); the other
 *       kernels declare it dead a lease later;</li>
 *   <li>a kernel's process pauses for L/20 to L/4 (20 %): what reaches it waits. Not while it is
 *       paused, nor within a lease after its last pause ended ({@link FaultBounds#recoveryNanos}):
 *       pauses back to back would add up past its pager lease (seed 7177 at --kernels 4 --threads 6
 *       --fault-gap-ms 7: four pauses of k2 left it 1.1 ms of running time in 14.3 ms and cost
 *       it its pager session), which these runs keep. A renewal is not held back by a pause nor holds one
 *       back: it cuts only IPC links, not the pager session, and the one pause that can fall
 *       into it (L/4 at most) delays its steps in the kernel's process well within the two
 *       leases the harness gives it ({@code renewingUntil});</li>
 *   <li>a kernel's IPC links are cut while it lives and keeps its pager session (5 %: a partition
 *       between kernels, not from the pager; a pause would end its pager session first, as the
 *       links' lease is over the pager's): what is on them is lost, a lease later the others
 *       declare its IPC session dead and it renews it (IpcLinks, "renew"): every right across it
 *       and the other kernels dies, the ports themselves live on (SimIpc.renew); afterwards the
 *       clients whose rights it may have killed are given new ones ({@link #give});</li>
 *   <li>a server destroys one of its ports (15 %; while more than one is alive);</li>
 *   <li>a server sends one of its ports to another server (40 %).</li>
 * </ul>
 * The links' jitter reorders frames across links all along.
 */
final class IpcFaults {
    private final IpcChaosRun run;
    private long end;
    /** Batches of rights given after renewals ({@link #give}). */
    private int gifts;
    private final FaultBounds bounds;
    /**
     * Per kernel, when its last pause is over and its pager lease whole again (a keepalive answered
     * since: {@link FaultBounds#recoveryNanos}): no pause before, as ChaosFaults keeps survivable
     * faults apart.
     */
    private final Map<SimKernel, Long> recovered = new HashMap<>();

    IpcFaults(IpcChaosRun run) {
        this.run = run;
        this.bounds = FaultBounds.of(run.options);
    }

    void start(long from, long until) {
        end = until;
        if (run.options.meanFaultGapNanos() > 0) {
            schedule(from);
        }
    }

    private void schedule(long from) {
        long gap = (long) (-Math.log(1 - run.random.nextDouble()) * run.options.meanFaultGapNanos());
        long at = from + Math.max(1, gap);
        if (at < end) {
            run.cluster.at(at, () -> {
                inject();
                schedule(at);
            });
        }
    }

    private List<ChaosServer> live() {
        return run.servers.stream().filter(s -> !s.gone).toList();
    }

    private void inject() {
        List<ChaosServer> live = live();
        int kind = run.random.nextInt(100);
        ChaosServer s = live.get(run.random.nextInt(live.size()));
        long alive = run.ports.stream().filter(p -> !p.dead).count();
        if (kind < 20) {
            if (live.size() > 2) {
                crash(s.kernel);
            }
        } else if (kind < 40) {
            long lease = run.options.leaseNanos();
            long nanos = lease / 20 + run.random.nextLong(lease / 4 - lease / 20);
            long now = run.cluster.now();
            if (now < recovered.getOrDefault(s.kernel, Long.MIN_VALUE)) {
                run.count("pauses skipped");
                return; // paused, or its lease not whole again since: two pauses would add up past it (seed 7177)
            }
            recovered.put(s.kernel, now + nanos + bounds.recoveryNanos());
            run.cluster.pause(s.kernel.name, nanos);
            run.record(Kind.KERNEL, s.kernel.name, -1, nanos, 0, "paused");
            run.count("pauses");
        } else if (kind < 45) {
            renew(toRenew(s));
        } else if (kind < 60) {
            if (alive > 1 && !s.idlePorts().isEmpty()) {
                s.destroy(pick(s));
                run.count("ports destroyed");
            }
        } else if (!s.idlePorts().isEmpty()) {
            List<ChaosServer> targets = live.stream().filter(t -> t != s && !t.ports.isEmpty()).toList();
            if (!targets.isEmpty()) {
                ChaosServer t = targets.get(run.random.nextInt(targets.size()));
                s.move(pick(s), t, pickVia(t));
                run.count("ports moved");
            }
        }
    }

    /**
     * The kernel a renewal picks: half the time, if there is one, a live kernel that a live port
     * was made on and has moved away from (review F1: a right to it given back to that kernel after
     * its renewal names the kernel it lives on and must arrive live, although its uid is of the
     * renewed kernel's earlier session); else the server's.
     */
    private SimKernel toRenew(ChaosServer s) {
        List<SimKernel> left = run.ports.stream()
                .filter(p -> !p.dead && p.transitVia < 0 && p.holder.kernel != p.visited.iterator().next())
                .map(p -> p.visited.iterator().next())
                .filter(k -> !run.crashed.contains(k))
                .distinct().toList();
        return left.isEmpty() || run.random.nextBoolean() ? s.kernel : left.get(run.random.nextInt(left.size()));
    }

    /** One of the server's ports that no earlier fault is still to destroy or move (its kernel paused meanwhile). */
    private int pick(ChaosServer s) {
        List<Integer> ports = s.idlePorts();
        return ports.get(run.random.nextInt(ports.size()));
    }

    /** Any of the server's ports, for a message to it (if it dies first, the move fails and says so). */
    private int pickVia(ChaosServer s) {
        List<Integer> ports = List.copyOf(s.ports.keySet());
        return ports.get(run.random.nextInt(ports.size()));
    }

    /**
     * See the class comment. The harness's record: a port in transit on a path through the kernel
     * may be dead; a client's right that crossed the kernel when it renewed (the client is on it and
     * the port is not; or the client is elsewhere and the port lives or lived on it, so the path
     * of the client's proxy may run through it) may be dead, each such right marked on its own; a
     * local right (the port's receive right is on the client's kernel) is not marked, only what the
     * client sent over it while the port was away, before it arrived back by a path through the
     * kernel, may be lost ({@link #arrivedThrough}; at the first renewal of each kernel after the
     * arrival); the token rights across the kernel are cut (recorded released).
     * Every other right keeps every check. Three leases later, when the renewal is over, each marked
     * client is given a new send right to the port by the port's server ({@link #give}).
     */
    private void renew(SimKernel k) {
        long lease = run.options.leaseNanos();
        run.ipc.renew(k.name, lease);
        run.record(Kind.KERNEL, k.name, -1, 0, 0, "renewed");
        run.count("renewals");
        run.renewingUntil.put(k, run.cluster.now() + 2 * lease);
        String why = k.name + " renewed its IPC session: every right across it and the other kernels died";
        List<int[]> marked = new ArrayList<>();
        for (PortFate p : run.ports) {
            if (p.dead) {
                continue;
            }
            if (p.transitVia >= 0 && p.visited.contains(k)) {
                run.portMayBeDead(p.number, false, "in transit on a path through " + k.name + ", which renewed its IPC session");
            }
            boolean firstSinceArrival = p.transitVia < 0 && p.renewedSinceArrival.add(k);
            for (ChaosClient c : run.clients) {
                if (c.gone) {
                    continue;
                }
                if (local(c, p)) {
                    IpcChaosRun.Remote r = p.remoteSince(c.kernel);
                    if (firstSinceArrival && arrivedThrough(c, p, r, k)) {
                        for (int name : c.names(p.number)) {
                            run.inFlightMayBeLost(c, p.number, name, r.since(), p.arrivedAt, why);
                        }
                    }
                } else if (crosses(c, p, k)) {
                    for (int name : c.names(p.number)) {
                        run.rightMayBeDead(c, p.number, name, run.renewingUntil.get(k), why);
                    }
                    marked.add(new int[] {run.clients.indexOf(c), p.number});
                }
            }
        }
        for (ChaosServer srv : run.servers) {
            for (int c = 0; c < run.clients.size(); c++) {
                SimKernel ck = run.clients.get(c).kernel;
                if (!srv.gone && srv.kernel != ck && (srv.kernel == k || ck == k)) {
                    srv.cut(c, why);
                }
            }
        }
        run.cluster.at(run.cluster.now() + 3 * lease, () -> give(marked));
    }

    /** Whether the port's receive right is on the client's kernel (by the harness's record): the client's right is local. */
    private static boolean local(ChaosClient c, PortFate p) {
        return p.transitVia < 0 && p.holder.kernel == c.kernel;
    }

    /**
     * Whether the client's right to a port not on its kernel crosses kernel {@code k}: the client
     * is on {@code k}, or the port lives or lived on {@code k}, so the path of the client's proxy
     * may run through it. Such a right may die with the renewal: marked ({@link #renew}).
     */
    private static boolean crosses(ChaosClient c, PortFate p, SimKernel k) {
        return c.kernel == k || p.visited.contains(k);
    }

    /**
     * Whether a local right's port arrived on the client's kernel (at {@code arrivedAt}) from
     * kernel {@code k} or by a path through it since it last left the client's kernel
     * ({@code remote}), or the client is on {@code k}: what the client sent to the port meanwhile
     * went through its proxy towards the forwarders on that path and may still be on k's links,
     * which the renewal cuts (IPC chaos seed 98: two messages from k0 to a port arriving on k0 from
     * k2, lost when k2 renewed 0.6 ms later; docs/mach-ipc.md, "What a renewal means": messages in
     * flight on the links are lost). Review C2: only those messages may be lost
     * ({@code IN_FLIGHT_MAY_BE_LOST}, recorded at the first renewal of k after the arrival; the
     * checker bounds it to two leases after the arrival, review R2 of ipcchaos2); the right itself,
     * to a port on its own kernel, no renewal kills, and what the client sends over it after the
     * arrival is queued or held on its own kernel, never on a link.
     */
    private static boolean arrivedThrough(ChaosClient c, PortFate p, IpcChaosRun.Remote remote, SimKernel k) {
        return p.arrivedAt != Long.MIN_VALUE && (c.kernel == k || remote.kernels().contains(k));
    }

    /**
     * After a renewal: the server of each marked port gives the client a send right to it under a
     * new name (mach_port_insert_right, across kernels the remote insert). A port made before the
     * renewal on a kernel that did not renew is known by its old uid, so a right to it reaches the
     * renewed kernel as a live proxy (docs/mach-ipc.md, "What a renewal means"), and one to the
     * renewed kernel's own port leaves it under a new uid; a right a renewal or a crash may kill on
     * its way is marked.
     */
    private void give(List<int[]> marked) {
        int batch = ++gifts;
        for (int[] cp : marked) {
            ChaosClient c = run.clients.get(cp[0]);
            PortFate p = run.ports.get(cp[1]);
            ChaosServer s = run.holder(p.number);
            if (c.gone || s == null || s.gone) {
                continue;
            }
            int given = IpcChaosRun.GIVEN + (batch << 8) + p.number;
            run.port(s, "give p" + p.number, ipc -> {
                Integer right = s.ports.get(p.number);
                if (right == null || c.gone) {
                    return null; // moved or destroyed meanwhile
                }
                KernReturn kr = c.kernel == s.kernel
                        ? ipc.machPortInsertRight(c.task, given, s.task, right, MsgType.MAKE_SEND)
                        : ipc.machPortInsertRemote(s.task, right, MsgType.MAKE_SEND, run.ipc.id(c.kernel.name), c.task, given);
                if (kr.ok()) {
                    run.record(Kind.RIGHT_GIVEN, c.name, p.number, given, 0, "by " + s.name);
                    run.count("rights given");
                    c.given(p.number, given);
                    if (c.kernel != s.kernel && (run.renewing(c.kernel) || run.renewing(s.kernel))) {
                        run.rightMayBeDead(c, p.number, given, Math.max(run.renewingUntil.getOrDefault(c.kernel, 0L),
                                run.renewingUntil.getOrDefault(s.kernel, 0L)), "given while " + c.kernel.name + " or " + s.kernel.name
                                + " renews its IPC session");
                    }
                } else if (kr != KernReturn.KERN_INVALID_CAPABILITY // the client's kernel is dead to the server's now
                        && kr != KernReturn.KERN_RIGHT_EXISTS) { // the port came to the client's kernel: its right there lives
                    run.unexpected(s, "insert of a right to p" + p.number + " for " + c.name + ": " + kr);
                }
                return null;
            }, v -> { });
        }
    }

    private void crash(SimKernel k) {
        run.ipc.crash(k.name, run.options.leaseNanos());
        run.crashed.add(k);
        run.record(Kind.KERNEL, k.name, -1, 0, 0, "crashed");
        run.count("kernel crashes");
        for (IpcChaosRun.Node n : run.nodes()) {
            if (n.kernel == k) {
                n.gone = true;
                run.record(Kind.GONE, n.name, -1, 0, 0, "its kernel crashed");
            }
        }
        for (PortFate p : run.ports) {
            if (p.dead) {
                continue;
            }
            if (p.transitVia < 0 && p.holder.kernel == k) {
                run.portDies(p.number, "its kernel " + k.name + " crashed");
            } else if (p.transitVia >= 0 && p.movedFrom.kernel == k) {
                run.portMayBeDead(p.number, true, "it was in transit from " + k.name + ", which crashed");
            } else if (p.visited.contains(k)) {
                run.portMayBeDead(p.number, true, "it passed through " + k.name + ", which crashed");
            }
        }
    }
}
