package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.that;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.machxp.conform.ConformCase;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmWriteReply;
import io.machxp.proto.task.VmWriteRequest;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Kernel cases of spec sections 5 (objects), 6 (pages) and 7 (versions). */
final class KernelPageCases {
    private KernelPageCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("5.1-init", "vm_map sends memory_object_init with the object's name and the session's page size; "
                        + "the mapping has the size of the ready", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    that(m.size() == m.object().size(), "vm_map answered size " + m.size() + "; memory_object_ready "
                            + "said " + m.object().size());
                }),
                must("5.1-destroy", "vm_map of an object the pager destroys fails: INVALID_ARGUMENT / EINVAL", p -> {
                    KernelProbe.fails(() -> p.tasks().vmMap(VmMapRequest.newBuilder().setTask(p.task())
                            .setObject("cf-not-served-" + System.nanoTime()).build()), Status.Code.INVALID_ARGUMENT,
                            "EINVAL", "vm_map of an object the pager answered with memory_object_destroy");
                }),
                must("6.2-read-fault", "a read of an absent page asks data_request(READ) for whole pages and reads the "
                        + "data supplied", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    long page = 2L * p.pageSize();
                    byte[] data = pattern(p.pageSize(), 6);
                    m.object().put(page, data, 3);
                    byte[] read = read(p, m, page + 16, 32);
                    MemoryObjectDataRequest r = dataRequest(p, m, page);
                    that(r.getLength() > 0 && r.getLength() % p.pageSize() == 0, "data_request length "
                            + r.getLength() + " is not whole pages (spec 6.2)");
                    that(r.getDesiredAccess() == VmProt.VM_PROT_READ, "a read asks " + r.getDesiredAccess()
                            + "; a read-only copy is asked with VM_PROT_READ (spec 6.2)");
                    that(Arrays.equals(read, Arrays.copyOfRange(data, 16, 48)), "vm_read did not return the data "
                            + "supplied");
                }),
                must("6.2-write-fault", "a write to an absent page asks data_request with write access; the write "
                        + "is then read back", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    long page = 3L * p.pageSize();
                    write(p, m, page + 8, pattern(16, 7));
                    MemoryObjectDataRequest r = dataRequest(p, m, page);
                    that((r.getDesiredAccess().getNumber() & VmProt.VM_PROT_WRITE_VALUE) != 0, "a write asks "
                            + r.getDesiredAccess() + "; the page must be asked writable (spec 6.2)");
                    that(Arrays.equals(read(p, m, page + 8, 16), pattern(16, 7)), "vm_read does not see the write");
                }),
                must("6.3-unlock-before-write", "a write to a read-only copy waits for data_unlock's answer "
                        + "(lock_request lock NONE)", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8).manual());
                    long page = p.pageSize();
                    ListenableFuture<?> first = p.async().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + page).setLength(8).build());
                    dataRequest(p, m, page);
                    m.link().send(KernelLink.supply(m.objectId(), page, new byte[p.pageSize()], VmProt.VM_PROT_WRITE,
                            1));
                    first.get(p.deadline() - System.nanoTime(), TimeUnit.NANOSECONDS);
                    ListenableFuture<VmWriteReply> w = p.async().vmWrite(VmWriteRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + page).setData(ByteString.copyFrom(pattern(8, 9))).build());
                    p.await(m, "data_unlock of a read-only page before writing it (spec 6.3)",
                            x -> x.hasMemoryObjectDataUnlock() && x.getMemoryObjectDataUnlock().getObjectId() == m.objectId()
                                    && x.getMemoryObjectDataUnlock().getOffset() == page);
                    that(!w.isDone(), "vm_write returned before the pager answered data_unlock");
                    m.link().send(KernelLink.lockRequest(m.objectId(), page, p.pageSize(), ReturnPolicy.RETURN_NONE,
                            false, VmProt.VM_PROT_NONE, false));
                    w.get(p.deadline() - System.nanoTime(), TimeUnit.NANOSECONDS);
                }),
                must("6.4-lock-completed-absent", "a lock_request with reply for a page not held is answered with "
                        + "lock_completed", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    long page = 4L * p.pageSize();
                    m.link().send(KernelLink.lockRequest(m.objectId(), page, p.pageSize(), ReturnPolicy.RETURN_DIRTY,
                            true, VmProt.VM_PROT_NONE, true));
                    KernelToPager c = p.await(m, "lock_completed for a page the kernel does not hold (spec 3.6, 6.4)",
                            x -> x.hasMemoryObjectLockCompleted() && x.getMemoryObjectLockCompleted().getObjectId()
                                    == m.objectId() && x.getMemoryObjectLockCompleted().getOffset() == page);
                    that(c.getMemoryObjectLockCompleted().getLength() == p.pageSize(), "lock_completed length "
                            + c.getMemoryObjectLockCompleted().getLength() + " is not the request's");
                }),
                must("6.4-flush-returns-dirty", "a flush of a dirty page returns its data (dirty, version + 1) before "
                        + "lock_completed, and drops the page", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    long page = 2L * p.pageSize();
                    m.object().put(page, pattern(p.pageSize(), 1), 41);
                    write(p, m, page, pattern(24, 11));
                    m.link().send(KernelLink.lockRequest(m.objectId(), page, p.pageSize(), ReturnPolicy.RETURN_DIRTY,
                            true, VmProt.VM_PROT_NONE, true));
                    MemoryObjectDataReturn r = returnBeforeCompleted(p, m, page);
                    that(!r.getKernelCopy(), "a flushed page is returned with kernel_copy false (spec 6.5)");
                    that(r.getVersion() == 42, "the page was supplied at version 41 and written: its return must "
                            + "carry version 42 (spec 7.2), not " + r.getVersion());
                    that(Arrays.equals(r.getData().substring(0, 24).toByteArray(), pattern(24, 11)), "data_return does "
                            + "not carry the bytes written");
                    read(p, m, page, 8);
                    dataRequest(p, m, page); // flushed: asked for again
                }),
                must("6.4-downgrade-write-protects", "a lock_request with lock WRITE returns a dirty page and takes "
                        + "write access: the next write asks data_unlock", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    long page = 3L * p.pageSize();
                    write(p, m, page, pattern(16, 12));
                    m.link().send(KernelLink.lockRequest(m.objectId(), page, p.pageSize(), ReturnPolicy.RETURN_DIRTY,
                            false, VmProt.VM_PROT_WRITE, true));
                    MemoryObjectDataReturn r = returnBeforeCompleted(p, m, page);
                    that(r.getKernelCopy(), "a downgraded page stays the kernel's: kernel_copy true (spec 6.5)");
                    write(p, m, page + 64, pattern(8, 13));
                    p.await(m, "data_unlock: the page was made read-only by the lock_request (spec 6.4, 6.8)",
                            x -> x.hasMemoryObjectDataUnlock() && x.getMemoryObjectDataUnlock().getObjectId() == m.objectId()
                                    && x.getMemoryObjectDataUnlock().getOffset() == page);
                }),
                must("6.8-data-error-eio", "a read whose page the pager answers with data_error fails: UNAVAILABLE / "
                        + "EIO", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8).manual());
                    long page = p.pageSize();
                    ListenableFuture<?> r = p.async().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + page).setLength(8).build());
                    dataRequest(p, m, page);
                    m.link().send(KernelMessages.dataError(m.objectId(), page, p.pageSize(), "the kit fails this page"));
                    KernelProbe.fails(() -> getUnchecked(r, p), Status.Code.UNAVAILABLE, "EIO",
                            "vm_read of a page the pager answered with data_error");
                }));
    }

    static byte[] pattern(int size, long seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return b;
    }

    static byte[] read(KernelProbe p, KernelProbe.Mapping m, long offset, int length) {
        return p.tasks().vmRead(VmReadRequest.newBuilder().setTask(p.task()).setAddress(m.address() + offset)
                .setLength(length).build()).getData().toByteArray();
    }

    static void write(KernelProbe p, KernelProbe.Mapping m, long offset, byte[] data) {
        p.tasks().vmWrite(VmWriteRequest.newBuilder().setTask(p.task()).setAddress(m.address() + offset)
                .setData(ByteString.copyFrom(data)).build());
    }

    static MemoryObjectDataRequest dataRequest(KernelProbe p, KernelProbe.Mapping m, long page) {
        return p.await(m, "data_request for the page at 0x" + Long.toHexString(page) + " (spec 6.2)",
                x -> x.hasMemoryObjectDataRequest() && x.getMemoryObjectDataRequest().getObjectId() == m.objectId()
                        && x.getMemoryObjectDataRequest().getOffset() <= page
                        && page < x.getMemoryObjectDataRequest().getOffset()
                                + x.getMemoryObjectDataRequest().getLength()).getMemoryObjectDataRequest();
    }

    /** The dirty data_return of the page, which must come before the lock_completed (spec 6.4). */
    private static MemoryObjectDataReturn returnBeforeCompleted(KernelProbe p, KernelProbe.Mapping m, long page) {
        List<KernelToPager> upTo = m.link().awaitWithEarlier("lock_completed answering the lock_request (spec 6.4)",
                x -> x.hasMemoryObjectLockCompleted() && x.getMemoryObjectLockCompleted().getObjectId() == m.objectId()
                        && x.getMemoryObjectLockCompleted().getOffset() == page, p.deadline());
        for (KernelToPager x : upTo) {
            if (x.hasMemoryObjectDataReturn() && x.getMemoryObjectDataReturn().getObjectId() == m.objectId()
                    && x.getMemoryObjectDataReturn().getOffset() == page && x.getMemoryObjectDataReturn().getDirty()) {
                return x.getMemoryObjectDataReturn();
            }
        }
        throw new io.machxp.conform.Violation("no dirty data_return of the page at 0x" + Long.toHexString(page)
                + " came before lock_completed: the kernel held it written, and the lock_request asked RETURN_DIRTY "
                + "(spec 6.4)");
    }

    static Object getUnchecked(java.util.concurrent.Future<?> f, KernelProbe p) {
        try {
            return f.get(Math.max(1, p.deadline() - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.machxp.conform.Violation("the call did not return before the case's deadline");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.machxp.conform.Violation("interrupted");
        }
    }
}
