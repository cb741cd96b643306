package io.machxp.client;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.ShmMapping;
import io.machxp.proto.task.TaskShmAttachReply;
import io.machxp.proto.task.TaskShmAttachRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The memory a task's kernel shares with this process (docs/shared-memory.md): the kernel file
 * (the lease's end, the threads' slots) and the futex table of each mapped object, mapped from
 * the files TaskShmAttach names. Null where the kernel shares none with this process (another
 * host, {@code --shm-dir none}, files this process cannot open): the task then makes every call
 * over gRPC, with the same answers.
 */
final class SharedTaskMemory {
    private static final String HOST = ShmLayout.bootId();
    private static final long PID = ProcessHandle.current().pid();
    /** Which processes PID names (the kernel trusts it only in its own namespace). */
    private static final String PID_NAMESPACE = ShmLayout.pidNamespace();
    /** This process's time namespace: the kernel shares memory only on its own clock (its own namespace). */
    private static final String TIME_NAMESPACE = ShmLayout.timeNamespace();
    /** This process's attacher name (task.proto TaskShmAttachRequest.attacher): random, one per process. */
    private static final String ATTACHER = java.util.UUID.randomUUID().toString().replace("-", "");
    /** Whether this process logged a kernel's refusal to share memory yet (at info once, then at debug). */
    private static final java.util.concurrent.atomic.AtomicBoolean TOLD_UNAVAILABLE =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * One mapping of the task with its object's futex table and page slots ({@code pages} null:
     * none, its memory goes through gRPC).
     */
    record Mapping(long start, long size, ByteBuffer table, int capacity, ByteBuffer pages, int pageSize,
            long dataStart, int objectId) {}

    final ByteBuffer kernel;
    /** Where the task's own ctl word is in the kernel file (its page accesses count there); -1: none. */
    final int taskCtl;
    /** Calls to the kernel through shared memory (docs/shared-memory.md), or null: over gRPC. */
    final CallChannel calls;
    /** The task's own call slot (its memory calls), or null. */
    final CallChannel.Slot taskCalls;
    private final Map<String, ByteBuffer> tables = new HashMap<>();
    private volatile Mapping[] mappings = new Mapping[0];
    /** The task's id, for the warning at a fault. */
    private final long id;
    /** Set at the first fault of this memory: from then on the task makes every call over gRPC. */
    private final java.util.concurrent.atomic.AtomicBoolean faulted = new java.util.concurrent.atomic.AtomicBoolean();

    private SharedTaskMemory(long id, ByteBuffer kernel, int taskSlot, CallChannel calls) {
        this.id = id;
        this.kernel = kernel;
        this.taskCtl = taskSlot == 0 ? -1 : ShmLayout.threadSlot(taskSlot - 1);
        this.calls = calls;
        this.taskCalls = calls == null || taskSlot == 0 ? null : calls.add(taskSlot - 1);
    }

    /**
     * Whether the task still uses this memory: false for good once it faulted ({@link #fault}).
     * Its files are allocated in full, so a fault means one of them shrank (truncated by a process
     * of the kernel's user) and every later touch would fault again (review F8).
     */
    boolean usable() {
        return !faulted.get();
    }

    /**
     * A fault of this memory (a SIGBUS, which the JVM raises as an InternalError, possibly at a
     * later point of the thread): the task makes every call over gRPC from now on, with one
     * warning; returns what the caller of the faulting operation gets (EIO: it may have taken
     * effect).
     */
    MachxpException fault(String target, InternalError e) {
        if (faulted.compareAndSet(false, true)) {
            org.slf4j.LoggerFactory.getLogger(SharedTaskMemory.class).warn("task {}: the memory kernel {} shares with "
                    + "this process faulted ({}); the task makes its calls over gRPC from now on", id, target,
                    e.getMessage());
        }
        return MachxpException.sharedMemoryFault(target, e);
    }

    /** The call slot of a new thread whose slot in the kernel file is {@code shmSlot} (plus 1; 0: none), or null. */
    CallChannel.Slot threadCalls(int shmSlot) {
        return calls == null || shmSlot == 0 ? null : calls.add(shmSlot - 1);
    }

    /** Attaches task {@code id} if its kernel shares memory with this process; else null. */
    static SharedTaskMemory attach(KernelClient client, long id) {
        if (HOST.isEmpty()) {
            return null;
        }
        TaskShmAttachReply r;
        try {
            r = client.call(() -> client.stub().taskShmAttach(request(id)));
        } catch (MachxpException noAttach) {
            // a kernel without TaskShmAttach, or a failed call: the task (made) uses gRPC
            org.slf4j.LoggerFactory.getLogger(SharedTaskMemory.class).warn("task {}: TaskShmAttach failed ({}); "
                    + "the task makes its calls over gRPC", id, noAttach.getMessage());
            return null;
        }
        if (!r.getAvailable()) {
            // once per process at info (why this process's tasks are on gRPC), later ones at debug
            org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SharedTaskMemory.class);
            String format = "task {}: kernel {} shares no memory with this process ({}); the task makes its calls "
                    + "over gRPC";
            if (TOLD_UNAVAILABLE.compareAndSet(false, true)) {
                log.info(format, id, client.target(), r.getReason());
            } else {
                log.debug(format, id, client.target(), r.getReason());
            }
            return null;
        }
        try {
            ByteBuffer kernel = ShmLayout.map(Path.of(r.getKernelFile()));
            if ((long) ShmLayout.LONG.getVolatile(kernel, 0) != ShmLayout.KERNEL_MAGIC) {
                return null;
            }
            SharedTaskMemory memory = new SharedTaskMemory(id, kernel, r.getTaskSlot(),
                    CallChannel.open(r.getCallFile()));
            memory.update(r);
            return memory;
        } catch (IOException | RuntimeException cannotMap) {
            return null; // not this host's files after all (a container's own /dev/shm): gRPC
        }
    }

    /**
     * After a vm_map: the tables of every mapping, asked for again; nothing once the memory
     * faulted (the task is on gRPC for good). A fault here (a file shrank under its mapping) is
     * one like any other: the task goes on over gRPC, and the vm_map, which was made, stands.
     */
    synchronized void refresh(KernelClient client, long id) {
        if (!usable()) {
            return;
        }
        try {
            update(client.call(() -> client.stub().taskShmAttach(request(id))));
        } catch (IOException | RuntimeException cannotMap) {
            // the new mapping's futexes go through gRPC
        } catch (InternalError fault) {
            fault(client.target(), fault);
        }
    }

    private synchronized void update(TaskShmAttachReply r) throws IOException {
        Mapping[] next = new Mapping[r.getMappingsCount()];
        for (int i = 0; i < next.length; i++) {
            ShmMapping m = r.getMappings(i);
            ByteBuffer table = map(m.getFutexFile());
            int capacity = (int) (long) ShmLayout.LONG.getVolatile(table, ShmLayout.TABLE_CAPACITY);
            ByteBuffer pages = m.getPageFile().isEmpty() || taskCtl < 0 ? null : map(m.getPageFile());
            if (pages != null && (long) ShmLayout.LONG.getVolatile(pages, 0) != ShmLayout.PAGE_MAGIC) {
                pages = null;
            }
            int pageSize = pages == null ? 0 : (int) ShmLayout.INT.get(pages, ShmLayout.PAGE_SIZE);
            long dataStart = pages == null ? 0 : (long) ShmLayout.LONG.get(pages, ShmLayout.PAGE_DATA);
            int objectId = pages == null ? 0 : (int) ShmLayout.INT.get(pages, ShmLayout.PAGE_OBJECT);
            next[i] = new Mapping(m.getAddress(), m.getSize(), table, capacity, pages, pageSize, dataStart, objectId);
        }
        mappings = next;
    }

    /** The file mapped once per process, futex table or page file alike. */
    private ByteBuffer map(String file) throws IOException {
        ByteBuffer b = tables.get(file);
        if (b == null) {
            b = ShmLayout.map(Path.of(file));
            tables.put(file, b);
        }
        return b;
    }

    /** The mapping holding {@code address}, or null. */
    Mapping mappingAt(long address) {
        for (Mapping m : mappings) {
            if (address - m.start >= 0 && address - m.start < m.size) {
                return m;
            }
        }
        return null;
    }

    private static TaskShmAttachRequest request(long id) {
        // the clock sample last, just before the request is sent: the kernel compares it with its own clock
        return TaskShmAttachRequest.newBuilder().setTask(id).setBootId(HOST).setPid(PID).setPidNamespace(PID_NAMESPACE)
                .setTimeNamespace(TIME_NAMESPACE).setAttacher(ATTACHER).setMonotonicNanos(System.nanoTime()).build();
    }
}
