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

    /** One mapping of the task with its object's futex table. */
    record Mapping(long start, long size, ByteBuffer table, int capacity) {}

    final ByteBuffer kernel;
    private final Map<String, ByteBuffer> tables = new HashMap<>();
    private volatile Mapping[] mappings = new Mapping[0];

    private SharedTaskMemory(ByteBuffer kernel) {
        this.kernel = kernel;
    }

    /** Attaches task {@code id} if its kernel shares memory with this process; else null. */
    static SharedTaskMemory attach(KernelClient client, long id) {
        if (HOST.isEmpty()) {
            return null;
        }
        TaskShmAttachReply r = client.call(() -> client.stub().taskShmAttach(request(id)));
        if (!r.getAvailable()) {
            return null;
        }
        try {
            ByteBuffer kernel = ShmLayout.map(Path.of(r.getKernelFile()));
            if ((long) ShmLayout.LONG.getVolatile(kernel, 0) != ShmLayout.KERNEL_MAGIC) {
                return null;
            }
            SharedTaskMemory memory = new SharedTaskMemory(kernel);
            memory.update(r);
            return memory;
        } catch (IOException | RuntimeException cannotMap) {
            return null; // not this host's files after all (a container's own /dev/shm): gRPC
        }
    }

    /** After a vm_map: the tables of every mapping, asked for again. */
    synchronized void refresh(KernelClient client, long id) {
        try {
            update(client.call(() -> client.stub().taskShmAttach(request(id))));
        } catch (IOException | RuntimeException cannotMap) {
            // the new mapping's futexes go through gRPC
        }
    }

    private synchronized void update(TaskShmAttachReply r) throws IOException {
        Mapping[] next = new Mapping[r.getMappingsCount()];
        for (int i = 0; i < next.length; i++) {
            ShmMapping m = r.getMappings(i);
            ByteBuffer table = tables.get(m.getFutexFile());
            if (table == null) {
                table = ShmLayout.map(Path.of(m.getFutexFile()));
                tables.put(m.getFutexFile(), table);
            }
            int capacity = (int) (long) ShmLayout.LONG.getVolatile(table, ShmLayout.TABLE_CAPACITY);
            next[i] = new Mapping(m.getAddress(), m.getSize(), table, capacity);
        }
        mappings = next;
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
        return TaskShmAttachRequest.newBuilder().setTask(id).setBootId(HOST).setPid(PID).build();
    }
}
