package io.machxp.chaos.ipc;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A client task of an IPC chaos run, with one thread. It holds a send right to every service port
 * (named {@code PUBLISHED + port}, each with a dead-name request), a notify port for its
 * notifications, and a token port with a no-senders request. It loops until the quiet period:
 * take the notifications queued, then send a one-way message (two times in three) or make an rpc
 * (a new reply port each, MAKE_SEND_ONCE, waiting up to four leases) to a random service port,
 * with its number and a sequence number of its own, and one time in three a send right to its
 * token port (MAKE_SEND: token n is the n-th made). One time in eight it works a scratch port
 * instead ({@link #scratch}): qlimit 0, a blocked send, and a port-destroyed request. At the end it
 * takes what is left on its notify port and on every reply port: an rpc gets at most one answer,
 * whenever it comes.
 */
final class ChaosClient extends IpcChaosRun.Node {
    private final IpcChaosRun run;
    private final SplittableRandom rnd;
    private final int number;
    private int notify;
    private int tokenPort;
    /** The notify port of its scratch ports' requests ({@link #scratch}). */
    private int scratchNotify;
    private int seq;
    private long made;
    private long offered;
    /** Every rpc's reply port and its seq. */
    private final List<int[]> replyPorts = new ArrayList<>();
    /**
     * Its names for each service port: the published one, then the rights servers gave it after
     * renewals ({@link #given}), whether they arrived yet or not (the harness marks them at a renewal).
     */
    private final Map<Integer, List<Integer>> names = new HashMap<>();
    /** The given names whose dead-name request succeeded, by port: it sends through them too. */
    private final Map<Integer, List<Integer>> usable = new HashMap<>();
    /** The port of each given name. */
    private final Map<Integer, Integer> givenPort = new HashMap<>();

    ChaosClient(IpcChaosRun run, String name, SimKernel kernel, SplittableRandom rnd) {
        super(name, kernel);
        this.run = run;
        this.rnd = rnd;
        this.number = Integer.parseInt(name.substring(1));
    }

    void setUp() {
        run.createTask(this, 1, tids -> run.port(this, "setup", ipc -> {
            notify = ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate");
            tokenPort = ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate");
            scratchNotify = ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate");
            return ipc.machPortRequestNotification(task, tokenPort, Mach.MACH_NOTIFY_NO_SENDERS, 1, notify,
                    MsgType.MAKE_SEND_ONCE).code();
        }, kr -> expectOk(kr, "no-senders request")));
    }

    private void expectOk(KernReturn kr, String what) {
        if (!kr.ok()) {
            run.unexpected(this, what + ": " + kr);
        }
    }

    void start() {
        run.port(this, "dead-name requests", ipc -> {
            for (int p = 0; p < run.ports.size(); p++) {
                KernReturn kr = ipc.machPortRequestNotification(task, IpcChaosRun.PUBLISHED + p,
                        Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND_ONCE).code();
                if (kr.ok() || kr == KernReturn.KERN_INVALID_ARGUMENT) {
                    run.record(Kind.DEAD_NAME_REQUESTED, name, p, IpcChaosRun.PUBLISHED + p, kr.ok() ? 0 : 1, "");
                } else {
                    run.unexpected(this, "dead-name request on p" + p + ": " + kr);
                }
            }
            return null;
        }, v -> next());
    }

    private void next() {
        if (run.quiet) {
            return;
        }
        notifications(rnd.nextInt(8) == 0 ? this::scratch : this::send);
    }

    /**
     * A scratch port whose name holds the receive and a send right, with qlimit 0, a no-senders
     * and a port-destroyed request to {@link #scratchNotify}: a send to it blocks (its bytes count
     * in the kernel's budget while it waits: rule 8 sees them back) and times out; then
     * mach_port_destroy of the name must send PORT_DESTROYED (the receive right to the backup,
     * destroyed in turn) and NO_SENDERS with make-send count 1 (the last send right went with the
     * name, GNU's ipc_right_destroy), and nothing else: anything different is unexpected (rule 7).
     */
    private void scratch() {
        KernReturn[] bad = {null};
        run.port(this, "scratch port", ipc -> {
            int p = ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate");
            KernReturn kr = ipc.machPortInsertRight(task, p, task, p, MsgType.MAKE_SEND);
            if (kr.ok()) {
                kr = ipc.machPortSetQlimit(task, p, 0);
            }
            if (kr.ok()) {
                kr = ipc.machPortRequestNotification(task, p, Mach.MACH_NOTIFY_NO_SENDERS, 0, scratchNotify,
                        MsgType.MAKE_SEND_ONCE).code();
            }
            if (kr.ok()) {
                kr = ipc.machPortRequestNotification(task, p, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, scratchNotify,
                        MsgType.MAKE_SEND_ONCE).code();
            }
            bad[0] = kr.ok() ? null : kr;
            return p;
        }, p -> {
            if (bad[0] == KernReturn.KERN_RESOURCE_SHORTAGE) {
                // a full budget: no send-once right made for the request (Notifications); a legitimate answer, round skipped
                run.port(this, "destroy scratch", ipc -> ipc.machPortDestroy(task, p), kr -> {
                    expectOk(kr, "mach_port_destroy of a scratch port");
                    drainScratch();
                });
                return;
            }
            if (bad[0] != null) {
                run.unexpected(this, "scratch port: " + bad[0]);
                think();
                return;
            }
            MachMessage m = MachMessage.to(p, MsgType.COPY_SEND, ChaosServer.ONE_WAY)
                    .withBody(MachMessage.int32(number), new MsgItem.Inline(new byte[1 + rnd.nextInt(256)]));
            long timeoutMs = Math.max(1, run.leaseMs() / 16);
            run.machMsg(this, tid, "blocked send", m, Mach.MACH_SEND_MSG | Mach.MACH_SEND_TIMEOUT, 0, timeoutMs,
                    r -> { }, r -> {
                        // MACH_SEND_NO_BUFFER: a full budget refused it before it could block (legitimate)
                        if (r.code() != KernReturn.MACH_SEND_TIMED_OUT && r.code() != KernReturn.MACH_SEND_NO_BUFFER) {
                            run.unexpected(this, "a send to a port of qlimit 0: " + r.code());
                        }
                        run.port(this, "destroy scratch", ipc -> ipc.machPortDestroy(task, p), kr -> {
                            expectOk(kr, "mach_port_destroy of a scratch port");
                            scratchNotifications(0);
                        });
                    });
        });
    }

    /**
     * After a scratch round skipped for a full budget: takes whatever its destroy sent (the
     * requests made before the refusal), then goes on.
     */
    private void drainScratch() {
        run.machMsg(this, tid, "scratch drain", null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, scratchNotify, 0,
                r -> { }, r -> {
                    if (r.code() == KernReturn.MACH_MSG_SUCCESS && r.message().id() == Mach.MACH_NOTIFY_PORT_DESTROYED) {
                        int backup = ((MsgItem.Port) r.message().body().get(0)).name();
                        run.port(this, "destroy backup", ipc -> ipc.machPortDestroy(task, backup), kr -> drainScratch());
                    } else if (r.code() == KernReturn.MACH_MSG_SUCCESS) {
                        drainScratch();
                    } else {
                        think();
                    }
                });
    }

    /** After a scratch port's destroy: PORT_DESTROYED, then NO_SENDERS (make-send count 1), then nothing. */
    private void scratchNotifications(int taken) {
        run.machMsg(this, tid, "scratch notifications", null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, scratchNotify, 0,
                r -> { }, r -> {
                    if (taken == 2) {
                        if (r.code() != KernReturn.MACH_RCV_TIMED_OUT) {
                            run.unexpected(this, "a third scratch notification: " + r.code()
                                    + (r.message() == null ? "" : " id " + Integer.toOctalString(r.message().id())));
                        }
                        think();
                        return;
                    }
                    int expected = taken == 0 ? Mach.MACH_NOTIFY_PORT_DESTROYED : Mach.MACH_NOTIFY_NO_SENDERS;
                    if (r.code() != KernReturn.MACH_MSG_SUCCESS || r.message().id() != expected) {
                        run.unexpected(this, "scratch notification " + taken + ": " + r.code()
                                + (r.message() == null ? "" : " id " + Integer.toOctalString(r.message().id()))
                                + ", not " + Integer.toOctalString(expected));
                        think();
                        return;
                    }
                    if (expected == Mach.MACH_NOTIFY_NO_SENDERS && r.message().intItem(0) != 1) {
                        run.unexpected(this, "scratch NO_SENDERS with make-send count " + r.message().intItem(0));
                    }
                    if (expected == Mach.MACH_NOTIFY_PORT_DESTROYED) {
                        int backup = ((MsgItem.Port) r.message().body().get(0)).name();
                        run.port(this, "destroy backup", ipc -> ipc.machPortDestroy(task, backup), kr -> {
                            expectOk(kr, "mach_port_destroy of a scratch port's backup");
                            scratchNotifications(taken + 1);
                        });
                    } else {
                        scratchNotifications(taken + 1);
                    }
                });
    }

    /** Takes every notification queued on the notify port, then goes on. */
    private void notifications(Runnable then) {
        run.machMsg(this, tid, "notifications", null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, notify, 0,
                this::notification, r -> {
                    if (r.code() == KernReturn.MACH_MSG_SUCCESS) {
                        if (r.message().id() == Mach.MACH_NOTIFY_NO_SENDERS) {
                            int mscount = r.message().intItem(0);
                            run.port(this, "no-senders request", ipc -> ipc.machPortRequestNotification(task,
                                    tokenPort, Mach.MACH_NOTIFY_NO_SENDERS, mscount + 1, notify,
                                    MsgType.MAKE_SEND_ONCE).code(), kr -> {
                                        expectOk(kr, "no-senders request");
                                        notifications(then);
                                    });
                        } else {
                            notifications(then);
                        }
                    } else {
                        then.run();
                    }
                });
    }

    private void notification(MsgReturn r) {
        if (r.code() == KernReturn.MACH_RCV_TIMED_OUT) {
            return;
        }
        if (r.code() != KernReturn.MACH_MSG_SUCCESS) {
            run.unexpected(this, "receive on the notify port: " + r.code());
            return;
        }
        MachMessage m = r.message();
        switch (m.id()) {
            case Mach.MACH_NOTIFY_DEAD_NAME -> {
                int dead = ((MsgItem.Port) m.body().get(0)).name();
                run.record(Kind.DEAD_NAME, name, givenPort.getOrDefault(dead, dead - IpcChaosRun.PUBLISHED), dead, 0, "");
            }
            case Mach.MACH_NOTIFY_NO_SENDERS -> run.record(Kind.NO_SENDERS, name, -1, m.intItem(0), 0, "");
            default -> run.unexpected(this, "notification " + Integer.toOctalString(m.id()) + " on the notify port");
        }
    }

    private void send() {
        int port = rnd.nextInt(run.ports.size());
        List<Integer> through = usable.getOrDefault(port, List.of());
        int dest = through.isEmpty() || rnd.nextBoolean() ? IpcChaosRun.PUBLISHED + port
                : through.get(rnd.nextInt(through.size()));
        String via = dest == IpcChaosRun.PUBLISHED + port ? "" : " via " + Integer.toHexString(dest);
        boolean rpc = rnd.nextInt(3) == 0;
        boolean carry = rnd.nextInt(3) == 0;
        int s = ++seq;
        List<MsgItem> body = new ArrayList<>(List.of(MachMessage.int32(number), MachMessage.int32(s),
                MachMessage.int32(carry ? (int) (made + 1) : 0)));
        if (carry) {
            body.add(new MsgItem.Port(tokenPort, MsgType.MAKE_SEND));
            offered = Math.max(offered, made + 1);
        }
        MachMessage m = MachMessage.to(dest, MsgType.COPY_SEND,
                rpc ? ChaosServer.RPC : ChaosServer.ONE_WAY).withBody(body.toArray(MsgItem[]::new));
        run.record(Kind.SENDING, name, port, s, 0, rpc ? "rpc" : "one-way");
        if (!rpc) {
            run.machMsg(this, tid, "send p" + port, m, Mach.MACH_SEND_MSG, 0, 0, r -> sent(r, port, s, carry, "one-way" + via),
                    r -> think());
            return;
        }
        run.port(this, "allocate", ipc -> ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("allocate"),
                reply -> {
                    replyPorts.add(new int[] {reply, s});
                    run.machMsg(this, tid, "rpc p" + port, m.withReply(reply, MsgType.MAKE_SEND_ONCE),
                            Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, reply, 4 * run.leaseMs(),
                            r -> {
                                sent(r, port, s, carry, "rpc" + via);
                                answer(r, s);
                            }, r -> think());
                });
    }

    /** The send half's outcome: sent (a token made), or refused with nothing done (a dead name). */
    private void sent(MsgReturn r, int port, int s, boolean carry, String what) {
        if (r.code().name().startsWith("MACH_SEND_")) {
            if (r.code() != KernReturn.MACH_SEND_INVALID_DEST) {
                run.unexpected(this, what + " to p" + port + ": " + r.code());
            }
            return;
        }
        if (carry) {
            made++;
        }
        run.record(Kind.SENT, name, port, s, carry ? made : 0, what);
    }

    /** What an rpc's receive half, or a later look at its reply port, found. */
    private void answer(MsgReturn r, int s) {
        if (r.code() == KernReturn.MACH_MSG_SUCCESS) {
            MachMessage m = r.message();
            if (m.id() == ChaosServer.REPLY) {
                run.record(Kind.REPLY, name, -1, s, m.intItem(0), "");
            } else if (m.id() == Mach.MACH_NOTIFY_SEND_ONCE) {
                run.record(Kind.SEND_ONCE, name, -1, s, 0, "");
            } else {
                run.unexpected(this, "a message with id " + m.id() + " on the reply port of rpc " + s);
            }
        } else if (r.code() != KernReturn.MACH_RCV_TIMED_OUT && r.code() != KernReturn.MACH_SEND_INVALID_DEST) {
            run.unexpected(this, "rpc " + s + ": " + r.code());
        }
    }

    /**
     * The highest token it has put in a message so far (sent or on its way into the kernel; a send
     * refused reuses its number): no send right to its token port numbered higher exists yet.
     */
    long offered() {
        return offered;
    }

    /** Its names for the port now (the published one first). */
    List<Integer> names(int port) {
        return names.computeIfAbsent(port, p -> new ArrayList<>(List.of(IpcChaosRun.PUBLISHED + port)));
    }

    /**
     * Inside the giving server's kernel: a server sent this client a send right to the port under
     * {@code given} (after a renewal). A lease later it asks for a dead-name notification on it: the
     * right has arrived by then, live unless a fault the harness marked killed it.
     */
    void given(int port, int given) {
        names(port).add(given);
        givenPort.put(given, port);
        boolean[] heldElsewhere = {false};
        run.cluster.at(run.cluster.now() + run.options.leaseNanos(), () -> run.port(this, "dead-name request", ipc -> {
            KernReturn kr = ipc.machPortRequestNotification(task, given, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify,
                    MsgType.MAKE_SEND_ONCE).code();
            if (kr == KernReturn.KERN_INVALID_NAME) { // a right arriving for a port the task names already is destroyed
                for (int other : names(port)) {
                    IpcResult<Integer> refs = ipc.machPortGetRefs(task, other, PortRight.SEND.value);
                    heldElsewhere[0] |= other != given && refs.code().ok() && refs.value() > 0;
                }
            }
            return kr;
        }, kr -> {
                            if (kr == KernReturn.KERN_INVALID_NAME && heldElsewhere[0]) {
                                names(port).remove((Integer) given); // its live right under another name stays the one
                            } else if (kr.ok() || kr == KernReturn.KERN_INVALID_ARGUMENT || kr == KernReturn.KERN_INVALID_NAME) {
                                run.record(Kind.DEAD_NAME_REQUESTED, name, port, given,
                                        kr.ok() ? 0 : kr == KernReturn.KERN_INVALID_ARGUMENT ? 1 : 2, "");
                                if (kr.ok()) {
                                    usable.computeIfAbsent(port, p -> new ArrayList<>()).add(given);
                                }
                            } else {
                                run.unexpected(this, "dead-name request on a given right to p" + port + ": " + kr);
                            }
                        }));
    }

    private void think() {
        run.cluster.at(run.cluster.now() + rnd.nextLong(run.options.leaseNanos() / 16 + 1), this::next);
    }

    /** At the end: every notification and every answer still queued. */
    void drain() {
        notifications(() -> drainReplies(0));
    }

    private void drainReplies(int i) {
        if (i == replyPorts.size()) {
            return;
        }
        int[] rp = replyPorts.get(i);
        run.machMsg(this, tid, "drain", null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, rp[0], 0,
                r -> answer(r, rp[1]), r -> drainReplies(r.code() == KernReturn.MACH_MSG_SUCCESS ? i : i + 1));
    }
}
