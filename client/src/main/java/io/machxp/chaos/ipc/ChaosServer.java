package io.machxp.chaos.ipc;

import io.machxp.chaos.ipc.IpcChaosRun.PortFate;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import io.machxp.kernel.ipc.IpcResult;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.sim.SimKernel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A server task of an IPC chaos run: its service ports (receive rights) in one port set, a thread
 * receiving on the set and a thread for the moves of its ports. It receives clients' messages
 * (replying to rpcs through their send-once rights), holds the send rights to token ports they
 * carry for a while and releases them one by one (checking mach_port_get_refs against its own
 * count each time), adds receive rights that arrive to its set, and on the harness's word destroys
 * a port or sends one to another server (MOVE_RECEIVE).
 */
final class ChaosServer extends IpcChaosRun.Node {
    static final int ONE_WAY = 1000;
    static final int RPC = 2000;
    static final int REPLY = 2001;
    static final int MOVE = 3000;

    /** Send rights to one client's token port held under one name: the tokens, oldest first. */
    private static final class Hold {
        int name;
        final ArrayDeque<Long> tokens = new ArrayDeque<>();
        /** A renewal cut these rights ({@link #cut}): they are let go uncounted. */
        boolean cut;
    }

    private final IpcChaosRun run;
    private final SplittableRandom rnd;
    /** Its service ports: port number -> its name here. */
    final Map<Integer, Integer> ports = new TreeMap<>();
    /**
     * Ports a fault is to destroy or move but has not yet (the call waits for the kernel, which may
     * be paused): no second fault picks them, or it would find the port gone.
     */
    private final java.util.Set<Integer> faultPending = new java.util.HashSet<>();
    /** The rights to each client's token port held now (a renewal's cut starts a new hold). */
    private final Map<Integer, Hold> holds = new HashMap<>();
    /**
     * For each client a renewal cut ({@link #cut}): the highest token it had offered by then. A right to its
     * token port made before and received after (queued here, or in a message on its way) is one
     * the renewal kills: let go uncounted.
     */
    private final Map<Integer, Long> cutBelow = new HashMap<>();
    /**
     * User references of rights a renewal cut still held, by name: a token number offered before a
     * renewal and reused after it (its first send refused) may share a name with counted rights.
     */
    private final Map<Integer, Integer> cutOnName = new HashMap<>();
    private int set;
    private int control;

    ChaosServer(IpcChaosRun run, String name, SimKernel kernel, SplittableRandom rnd) {
        super(name, kernel);
        this.run = run;
        this.rnd = rnd;
    }

    private int number() {
        return Integer.parseInt(name.substring(1));
    }

    void setUp() {
        run.createTask(this, 2, tids -> {
            control = tids[1];
            run.port(this, "setup", ipc -> {
                int port = ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate");
                set = ipc.machPortAllocate(task, PortRight.PORT_SET.value).orThrow("allocate set");
                check(ipc.machPortMoveMember(task, port, set), "move_member");
                return port;
            }, port -> ports.put(number(), port));
        });
    }

    /** Every other task gets a send right to this server's port under PUBLISHED + its number. */
    void publish() {
        int number = number();
        int port = ports.get(number);
        run.port(this, "publish", ipc -> {
            for (IpcChaosRun.Node n : run.nodes()) {
                if (n == this) {
                    continue;
                }
                KernReturn kr = n.kernel == kernel
                        ? ipc.machPortInsertRight(n.task, IpcChaosRun.PUBLISHED + number, task, port, MsgType.MAKE_SEND)
                        : ipc.machPortInsertRemote(task, port, MsgType.MAKE_SEND, run.ipc.id(n.kernel.name), n.task,
                                IpcChaosRun.PUBLISHED + number);
                check(kr, "insert_right");
            }
            return null;
        }, v -> { });
    }

    private static void check(KernReturn kr, String what) {
        if (!kr.ok()) {
            throw new IllegalStateException(what + ": " + kr);
        }
    }

    void start() {
        receive();
    }

    private void receive() {
        run.machMsg(this, tid, "receive", null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, set, run.leaseMs(),
                this::arrived, r -> {
                    if (r.code() == KernReturn.MACH_MSG_SUCCESS && r.message().id() == RPC) {
                        reply(r.message());
                    } else {
                        later(this::receive);
                    }
                });
    }

    private void later(Runnable next) {
        run.cluster.at(run.cluster.now() + rnd.nextLong(run.options.leaseNanos() / 8 + 1), next);
    }

    /** The moment the kernel hands over a message: the harness's record follows the core's state. */
    private void arrived(MsgReturn r) {
        if (r.code() == KernReturn.MACH_RCV_TIMED_OUT) {
            return;
        }
        MachMessage m = r.message();
        if (r.code() != KernReturn.MACH_MSG_SUCCESS) {
            run.unexpected(this, "receive: " + r.code());
            return;
        }
        int port = portNamed(m.localPort());
        switch (m.id()) {
            case ONE_WAY, RPC -> {
                int client = m.intItem(0);
                run.record(Kind.DELIVERED, name, port, m.intItem(1), client, m.id() == RPC ? "rpc" : "one-way");
                if (m.body().size() > 3) {
                    token(client, m.intItem(2), (MsgItem.Port) m.body().get(3));
                }
            }
            case MOVE -> {
                int moved = m.intItem(0);
                int right = ((MsgItem.Port) m.body().get(1)).name();
                PortFate f = run.ports.get(moved);
                ports.put(moved, right);
                f.holder = this;
                f.transitVia = -1;
                f.arrived(kernel, run.cluster.now());
                run.record(Kind.MOVE_ARRIVED, name, moved, 0, 0, "");
                run.cluster.at(run.cluster.now(), () -> run.port(this, "move_member", ipc ->
                        ipc.machPortMoveMember(task, right, set), kr -> {
                            if (!kr.ok()) {
                                run.unexpected(this, "move_member of p" + moved + ": " + kr);
                            }
                        }));
            }
            default -> run.unexpected(this, "a message with id " + m.id() + " on p" + port);
        }
    }

    private int portNamed(int name) {
        for (Map.Entry<Integer, Integer> e : ports.entrySet()) {
            if (e.getValue() == name) {
                return e.getKey();
            }
        }
        return -1;
    }

    private void reply(MachMessage request) {
        int client = request.intItem(0);
        int seq = request.intItem(1);
        MachMessage reply = MachMessage.to(request.remotePort(), MsgType.MOVE_SEND_ONCE, REPLY)
                .withBody(MachMessage.int32(seq));
        run.machMsg(this, tid, "reply", reply, Mach.MACH_SEND_MSG, 0, 0, r -> {
            if (r.code().ok()) {
                run.record(Kind.REPLIED, name, -1, seq, client, "");
            }
        }, r -> later(this::receive));
    }

    /** A send right to the client's token port arrived (merged into the name it has here). */
    private void token(int client, long token, MsgItem.Port right) {
        if (right.name() == Mach.MACH_PORT_DEAD) {
            return; // the client's kernel died
        }
        if (token <= cutBelow.getOrDefault(client, 0L)) { // made before a renewal that cut it
            Hold cut = new Hold();
            cut.cut = true;
            cut.name = right.name();
            cut.tokens.add(token);
            cutOnName.merge(cut.name, 1, Integer::sum);
            releaseLater(cut, client);
            return;
        }
        Hold h = holds.computeIfAbsent(client, c -> new Hold());
        h.name = right.name();
        h.tokens.add(token);
        run.record(Kind.TOKEN_HELD, name, -1, token, client, "");
        run.cluster.at(run.cluster.now(), () -> run.port(this, "get_refs", ipc -> {
            refs(ipc.machPortGetRefs(task, h.name, PortRight.SEND.value), h, client);
            return null;
        }, v -> { }));
        releaseLater(h, client);
    }

    /** The oldest token of the hold is released some time within a lease. */
    private void releaseLater(Hold h, int client) {
        run.cluster.at(run.cluster.now() + rnd.nextLong(run.options.leaseNanos() + 1), () ->
                run.port(this, "deallocate", ipc -> {
                    Long oldest = h.tokens.poll();
                    if (h.cut) {
                        ipc.machPortDeallocate(task, h.name); // cut by a renewal: not counted
                        cutOnName.computeIfPresent(h.name, (n, refs) -> refs > 1 ? refs - 1 : null);
                    } else if (oldest != null) {
                        KernReturn kr = ipc.machPortDeallocate(task, h.name);
                        run.record(Kind.TOKEN_RELEASED, name, -1, oldest, client, kr.toString());
                        refs(ipc.machPortGetRefs(task, h.name, PortRight.SEND.value), h, client);
                    }
                    return null;
                }, v -> { }));
    }

    /** Inside the kernel's process: the user references the name has against the tokens the harness counts. */
    private void refs(IpcResult<Integer> got, Hold h, int client) {
        if (run.clients.get(client).gone || h.cut) {
            return; // its token port dies with its kernel (the right turns into a dead name), or a renewal cut it
        }
        int observed = got.code().ok() ? got.value() : 0;
        run.record(Kind.REFS, name, -1, h.tokens.size(), observed - cutOnName.getOrDefault(h.name, 0),
                "c" + client + " " + got.code());
    }

    /**
     * A renewal of this server's kernel or of the client's cuts the send rights to the client's
     * token port held here (IpcLinks, "renew": every right across the two kernels dies): the ones
     * held are recorded released (lost) and let go uncounted as their time comes, as are those the
     * client made before and this server receives later; a right made after the renewal is a new
     * one (a new proxy, a new name) and counted again.
     */
    void cut(int client, String why) {
        cutBelow.put(client, run.clients.get(client).offered());
        Hold h = holds.remove(client);
        if (h != null) {
            h.cut = true;
            cutOnName.merge(h.name, h.tokens.size(), Integer::sum);
            for (Long t : h.tokens) {
                run.record(Kind.TOKEN_RELEASED, name, -1, t, client, why);
            }
        }
    }

    /** Its ports that no fault is about to destroy or move, in order. */
    java.util.List<Integer> idlePorts() {
        return ports.keySet().stream().filter(p -> !faultPending.contains(p)).toList();
    }

    /** The harness destroys one of its ports. */
    void destroy(int port) {
        Integer right = ports.get(port);
        faultPending.add(port);
        run.port(this, "destroy", ipc -> {
            faultPending.remove(port);
            KernReturn kr = ipc.machPortDestroy(task, right);
            if (kr.ok()) {
                run.portDies(port, "destroyed by " + name);
            } else {
                run.unexpected(this, "mach_port_destroy of p" + port + ": " + kr);
            }
            return null;
        }, v -> { });
    }

    /** The harness sends one of its ports to server {@code to}, in a message to port {@code via} that server holds. */
    void move(int port, ChaosServer to, int via) {
        int right = ports.get(port);
        MachMessage m = MachMessage.to(IpcChaosRun.PUBLISHED + via, MsgType.COPY_SEND, MOVE)
                .withBody(MachMessage.int32(port), new MsgItem.Port(right, MsgType.MOVE_RECEIVE));
        PortFate f = run.ports.get(port);
        faultPending.add(port);
        f.moveBegun = run.cluster.now();
        run.machMsg(this, control, "move p" + port, m, Mach.MACH_SEND_MSG, 0, 0, () -> {
            faultPending.remove(port);
            ports.remove(port);
            f.transitVia = via;
            f.movedFrom = this;
            Set<SimKernel> path = new LinkedHashSet<>(run.ports.get(via).visited); // the kernels its carrying message may pass
            f.visited.addAll(path);
            f.movePath = Set.copyOf(path);
            for (PortFate q : run.carriedIn(port)) { // their receive rights go the same way, queued inside it
                q.visited.addAll(path);
                Set<SimKernel> along = new LinkedHashSet<>(q.movePath);
                along.addAll(path);
                q.movePath = Set.copyOf(along);
            }
            if (f.visited.stream().anyMatch(run.crashed::contains)) {
                run.portMayBeDead(port, true, "its carrying message may pass a crashed kernel");
            } else if (f.visited.stream().anyMatch(run::renewing)) {
                run.portMayBeDead(port, false, "its carrying message may pass a kernel renewing its IPC session");
            }
            run.record(Kind.MOVE_SENT, name, port, 0, via, "to " + to.name);
        }, r -> {
            PortFate v = run.ports.get(via);
            if (r.code() == KernReturn.MACH_SEND_INVALID_DEST) { // the port it went to died first: nothing moved
                ports.put(port, right);
                f.transitVia = -1;
                f.mayBeDead = f.crashTouched; // it lived: a renewal's mark ends here (as at an arrival)
                run.record(Kind.MOVE_ARRIVED, name, port, 0, 0, "the move failed: " + r.code());
            } else if (!r.code().ok()) {
                run.unexpected(this, "move of p" + port + ": " + r.code());
            } else if (v.dead) {
                run.portDies(port, "in a message to p" + via + ", which died");
            } else if (run.closesCycle(port)) {
                // its message is queued, or on its way, inside itself: no one can receive it. Mach destroys
                // it (ipc_port_check_circularity) on one kernel at once, across kernels the hop bound does
                // (docs/mach-ipc.md): the receive rights in the cycle die (seeds 7160, 9010)
                run.portDies(port, "its receive right went in a message to p" + via + ", which is in transit inside it"
                        + " (a cycle)");
            } else if (v.mayBeDead) { // it dies with that port's queue if that port died
                run.portMayBeDead(port, v.crashTouched, "in a message to p" + via + ", which may be dead");
            }
        }, r -> { });
    }
}
