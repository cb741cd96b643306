package io.machxp.scenario;

import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The Mach IPC steps ({@link IpcStepParser}) in the simulator, on the kernels' IPC cores joined by
 * {@link io.machxp.sim.SimIpc}. A port allocated by a step gets, in every other task of the
 * scenario, a send right under the name {@code PUBLISHED + its number} (mach_port_insert_right on
 * its kernel, across kernels a link latency later). Each thread remembers the reply right of the
 * last message it received ({@code send: reply}) and has its own reply port for rpc.
 */
final class SimIpcSteps {
    /** Where published send rights are named in other tasks, clear of the names tasks allocate. */
    static final int PUBLISHED = 0x10000;

    /** A task of the scenario. */
    record TaskRef(KernelCore core, long task) {}

    private record PortRef(TaskRef owner, int name, int number) {}

    private static final class ThreadState {
        int lastReply = Mach.MACH_PORT_NULL;
        int replyPort = Mach.MACH_PORT_NULL;
    }

    private final List<TaskRef> tasks = new ArrayList<>();
    private final Map<String, PortRef> ports = new LinkedHashMap<>();
    private final Map<Integer, ThreadState> threads = new HashMap<>();

    void addTask(TaskRef t) {
        tasks.add(t);
    }

    /** Runs an IPC step of thread {@code tid} in task {@code me}; {@code done} gets its outcome (once). */
    void perform(TaskRef me, int tid, Step step, Consumer<Outcome> done) {
        ThreadState state = threads.computeIfAbsent(tid, t -> new ThreadState());
        IpcCore ipc = me.core().ipcCore();
        switch (step.kind()) {
            case PORT_ALLOCATE -> done.accept(allocate(me, step.word()));
            case SEND -> {
                int[] dest = destination(me, step.word(), state);
                if (dest == null) {
                    done.accept(new Outcome("MACH_SEND_INVALID_DEST", "no port named " + step.word() + " to send to"));
                    return;
                }
                if (step.word().equals("reply")) {
                    state.lastReply = Mach.MACH_PORT_NULL;
                }
                me.core().ipc().machMsg(me.task(), tid, MachMessage.to(dest[0], MsgType.of(dest[1]), (int) step.value()),
                        Mach.MACH_SEND_MSG, 0, 0, 0, answer(done, state));
            }
            case RECEIVE -> {
                PortRef p = ports.get(step.word());
                int name = p != null && p.owner().equals(me) ? p.name() : Mach.MACH_PORT_NULL;
                int option = Mach.MACH_RCV_MSG | (step.nanos() >= 0 ? Mach.MACH_RCV_TIMEOUT : 0);
                me.core().ipc().machMsg(me.task(), tid, null, option, 1 << 16, name,
                        Math.max(0, step.nanos() / 1_000_000), answer(done, state));
            }
            case RPC -> {
                int[] dest = destination(me, step.word(), state);
                if (dest == null) {
                    done.accept(new Outcome("MACH_SEND_INVALID_DEST", "no port named " + step.word() + " to call"));
                    return;
                }
                if (state.replyPort == Mach.MACH_PORT_NULL) {
                    state.replyPort = ipc.machPortAllocate(me.task(), PortRight.RECEIVE.value).orThrow("mach_port_allocate");
                }
                MachMessage request = MachMessage.to(dest[0], MsgType.of(dest[1]), (int) step.value())
                        .withReply(state.replyPort, MsgType.MAKE_SEND_ONCE);
                me.core().ipc().machMsg(me.task(), tid, request, Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, 1 << 16,
                        state.replyPort, 0, answer(done, state));
            }
            default -> throw new IllegalArgumentException(step.kind() + " is not an IPC step");
        }
    }

    private Outcome allocate(TaskRef me, String port) {
        IpcCore ipc = me.core().ipcCore();
        int name = ipc.machPortAllocate(me.task(), PortRight.RECEIVE.value).orThrow("mach_port_allocate");
        PortRef ref = new PortRef(me, name, ports.size());
        ports.put(port, ref);
        for (TaskRef other : tasks) {
            int published = PUBLISHED + ref.number();
            if (other.equals(me)) {
                continue;
            }
            KernReturn r = other.core() == me.core()
                    ? ipc.machPortInsertRight(other.task(), published, me.task(), name, MsgType.MAKE_SEND)
                    : ipc.machPortInsertRemote(me.task(), name, MsgType.MAKE_SEND, other.core().kernelId(), other.task(),
                            published);
            if (!r.ok()) {
                return new Outcome(r.name(), "publishing " + port + " to task " + other.task() + " failed");
            }
        }
        return Outcome.ok(String.valueOf(name));
    }

    /** The name and disposition to send to {@code port} with, or null if there is none. */
    private int[] destination(TaskRef me, String port, ThreadState state) {
        if (port.equals("reply")) {
            return state.lastReply == Mach.MACH_PORT_NULL ? null
                    : new int[] {state.lastReply, MsgType.MOVE_SEND_ONCE.value};
        }
        PortRef p = ports.get(port);
        if (p == null) {
            return null;
        }
        return p.owner().equals(me) ? new int[] {p.name(), MsgType.MAKE_SEND.value}
                : new int[] {PUBLISHED + p.number(), MsgType.COPY_SEND.value};
    }

    private static Reply<MsgReturn> answer(Consumer<Outcome> done, ThreadState state) {
        return new Reply<>() {
            @Override
            public void complete(MsgReturn r) {
                if (!r.code().ok()) {
                    done.accept(new Outcome(r.code().name(), ""));
                    return;
                }
                MachMessage m = r.message();
                if (m != null && m.remoteType() == MsgType.PORT_SEND_ONCE) {
                    state.lastReply = m.remotePort();
                }
                done.accept(Outcome.ok(m == null ? "" : String.valueOf(m.id())));
            }

            @Override
            public void fail(KernelError e) {
                done.accept(new Outcome(e.errno().name(), e.message()));
            }
        };
    }
}
