package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.should;
import static io.machxp.conform.kernel.KernelCases.that;
import static io.machxp.conform.kernel.KernelPageCases.getUnchecked;
import static io.machxp.conform.kernel.KernelPageCases.pattern;
import static io.machxp.conform.kernel.KernelPageCases.read;
import static io.machxp.conform.kernel.KernelPageCases.write;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.machxp.conform.ConformCase;
import io.machxp.conform.Skipped;
import io.machxp.conform.Violation;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.VmMsyncReply;
import io.machxp.proto.task.VmMsyncRequest;
import io.machxp.proto.task.VmReadReply;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.xp.CopyStrategy;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectChangeAttributes;
import io.machxp.proto.xp.MemoryObjectChangeCompleted;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.MemoryObjectSynchronizeCompleted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;

/**
 * Kernel cases of the rest of Mach's memory_object interface (spec 6.2 and 6.4 ranges, 6.9
 * vm_msync, 6.10 precious pages and supply_completed, 6.11 change_attributes). The cases of an
 * optional feature are skipped for a kernel whose hello does not name it (spec 6.12).
 */
final class KernelMachCases {
    private KernelMachCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                should("6.2-read-range", "a read of several absent pages asks them in one data_request, and takes "
                        + "a supply of several pages", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8).manual());
                    int ps = p.pageSize();
                    ListenableFuture<VmReadReply> r = p.async().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + ps).setLength(3 * ps).build());
                    MemoryObjectDataRequest q = KernelPageCases.dataRequest(p, m, ps);
                    that(q.getOffset() == ps && q.getLength() >= 3L * ps, "a read of pages 1-3 asked " + q.getOffset()
                            + "+" + q.getLength() + ": a run of absent pages should be asked in one request (spec 6.2)");
                    byte[] data = pattern(3 * ps, 21);
                    m.link().send(supply(m.objectId(), ps, data, 4, false, false));
                    byte[] got = ((VmReadReply) getUnchecked(r, p)).getData().toByteArray();
                    that(Arrays.equals(got, data), "vm_read did not return the three pages of one data_supply (6.2)");
                }),
                must("6.4-lock-range", "a lock_request of several pages applies to each: the dirty ones come back "
                        + "before one lock_completed for the range", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    needs(m, "lock_ranges");
                    int ps = p.pageSize();
                    for (int i = 1; i <= 3; i++) {
                        write(p, m, (long) i * ps + 8, pattern(16, 30 + i));
                    }
                    m.link().send(KernelLink.lockRequest(m.objectId(), ps, 3L * ps, ReturnPolicy.RETURN_DIRTY, true,
                            VmProt.VM_PROT_NONE, true));
                    List<KernelToPager> upTo = m.link().awaitWithEarlier("one lock_completed for the range (spec 6.4)",
                            x -> x.hasMemoryObjectLockCompleted() && x.getMemoryObjectLockCompleted().getObjectId()
                                    == m.objectId() && x.getMemoryObjectLockCompleted().getOffset() == ps, p.deadline());
                    KernelToPager done = upTo.get(upTo.size() - 1);
                    that(done.getMemoryObjectLockCompleted().getLength() == 3L * ps, "lock_completed must carry the "
                            + "request's length " + 3 * ps + " (spec 6.4): " + done.getMemoryObjectLockCompleted());
                    for (int i = 1; i <= 3; i++) {
                        long page = (long) i * ps;
                        that(upTo.stream().anyMatch(x -> x.hasMemoryObjectDataReturn() && x.getMemoryObjectDataReturn()
                                .getOffset() == page && x.getMemoryObjectDataReturn().getDirty()), "no dirty data_return "
                                + "of page " + i + " of the range came before lock_completed (spec 6.4)");
                    }
                    read(p, m, 3L * ps, 8);
                    KernelPageCases.dataRequest(p, m, 3L * ps); // the last page of the range was flushed too
                }),
                must("6.9-msync", "vm_msync returns the range's dirty pages, sends synchronize, and returns only at "
                        + "synchronize_completed", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    int ps = p.pageSize();
                    long page = 2L * ps;
                    write(p, m, page + 8, pattern(16, 41));
                    ListenableFuture<VmMsyncReply> r = msync(p, m, page + 8, 16);
                    List<KernelToPager> upTo = m.link().awaitWithEarlier("memory_object_synchronize (spec 6.9)",
                            x -> x.hasMemoryObjectSynchronize() && x.getMemoryObjectSynchronize().getObjectId()
                                    == m.objectId(), p.deadline());
                    var sync = upTo.get(upTo.size() - 1).getMemoryObjectSynchronize();
                    that(sync.getOffset() == page && sync.getLength() == ps, "vm_msync of 16 bytes in page 2 must "
                            + "synchronize that page, whole (spec 6.9): " + sync);
                    that(upTo.stream().anyMatch(x -> x.hasMemoryObjectDataReturn() && x.getMemoryObjectDataReturn()
                            .getOffset() == page && x.getMemoryObjectDataReturn().getDirty()), "the dirty page must go "
                            + "back (data_return) before the synchronize (spec 6.9)");
                    p.sync(m);
                    that(!r.isDone(), "vm_msync returned before synchronize_completed (spec 6.9)");
                    m.link().send(synchronizeCompleted(m.objectId(), page, ps, ""));
                    VmMsyncReply reply = (VmMsyncReply) getUnchecked(r, p);
                    that(reply.getPagesReturned() == 1, "vm_msync gave back one dirty page; it says "
                            + reply.getPagesReturned());
                }),
                must("6.9-msync-error", "vm_msync fails INVALID_ARGUMENT / EINVAL when synchronize_completed carries "
                        + "an error", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    int ps = p.pageSize();
                    ListenableFuture<VmMsyncReply> r = msync(p, m, ps, ps);
                    var sync = p.await(m, "memory_object_synchronize (spec 6.9)", x -> x.hasMemoryObjectSynchronize()
                            && x.getMemoryObjectSynchronize().getObjectId() == m.objectId())
                            .getMemoryObjectSynchronize();
                    m.link().send(synchronizeCompleted(m.objectId(), sync.getOffset(), sync.getLength(),
                            "the kit refuses this synchronize"));
                    KernelProbe.fails(() -> getUnchecked(r, p), Status.Code.INVALID_ARGUMENT, "EINVAL",
                            "vm_msync whose synchronize the pager refused");
                }),
                must("6.10-supply-completed", "a data_supply with reply is answered with supply_completed; a page "
                        + "the kernel already holds is named in its error", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8).manual());
                    needs(m, "precious");
                    int ps = p.pageSize();
                    ListenableFuture<VmReadReply> r = p.async().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + ps).setLength(8).build());
                    KernelPageCases.dataRequest(p, m, ps);
                    m.link().send(supply(m.objectId(), ps, pattern(ps, 51), 2, true, true));
                    MemoryObjectSupplyCompleted ok = supplyCompleted(p, m, ps);
                    that(ok.getLength() == ps && ok.getError().isEmpty(), "supply_completed must name the supply's "
                            + "range, without an error, once the page is installed (spec 6.10): " + ok);
                    getUnchecked(r, p);
                    m.link().send(supply(m.objectId(), ps, pattern(ps, 52), 2, true, true));
                    MemoryObjectSupplyCompleted again = supplyCompleted(p, m, ps);
                    that(!again.getError().isBlank() && again.getErrorOffset() == ps, "a supply of a page the kernel "
                            + "holds must be answered with an error at its offset (spec 6.10): " + again);
                }),
                must("6.10-precious-returned", "a clean precious page the kernel drops on its own (may_cache false, "
                        + "task ended) comes back with its data", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8).manual());
                    needs(m, "precious");
                    needs(m, "change_attributes");
                    int ps = p.pageSize();
                    long page = 3L * ps;
                    ListenableFuture<VmReadReply> r = p.async().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + page).setLength(8).build());
                    KernelPageCases.dataRequest(p, m, page);
                    byte[] data = pattern(ps, 61);
                    m.link().send(supply(m.objectId(), page, data, 5, true, false));
                    getUnchecked(r, p);
                    changeAttributes(p, m, false, CopyStrategy.MEMORY_OBJECT_COPY_NONE);
                    p.tasks().taskTerminate(TaskTerminateRequest.newBuilder().setTask(p.task()).build());
                    MemoryObjectDataReturn back = returned(p, m, page, "the precious page, its task ended with "
                            + "may_cache false (spec 6.10, 6.11)");
                    that(!back.getKernelCopy() && Arrays.equals(back.getData().toByteArray(), data), "a precious "
                            + "page must come back with its data, kernel_copy false (spec 6.10): " + back.getData().size()
                            + " bytes, kernel_copy " + back.getKernelCopy());
                }),
                must("6.11-may-cache-false", "with may_cache false, the pages of an object no task maps go back and "
                        + "are dropped", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    needs(m, "change_attributes");
                    long page = 2L * p.pageSize();
                    write(p, m, page, pattern(24, 71));
                    MemoryObjectChangeCompleted c = changeAttributes(p, m, false, CopyStrategy.MEMORY_OBJECT_COPY_NONE);
                    that(!c.getMayCache() && c.getError().isEmpty(), "change_completed must say may_cache false, "
                            + "without an error (spec 6.11): " + c);
                    p.tasks().taskTerminate(TaskTerminateRequest.newBuilder().setTask(p.task()).build());
                    MemoryObjectDataReturn back = returned(p, m, page, "the dirty page, its task ended with "
                            + "may_cache false (spec 6.11)");
                    that(back.getDirty() && !back.getKernelCopy(), "the page must come back dirty and be dropped "
                            + "(kernel_copy false, spec 6.11)");
                }),
                must("6.11-copy-strategy", "change_attributes: COPY_CALL refused with an error (the strategy "
                        + "stays), COPY_DELAY taken", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(8));
                    needs(m, "change_attributes");
                    MemoryObjectChangeCompleted call = changeAttributes(p, m, true,
                            CopyStrategy.MEMORY_OBJECT_COPY_CALL);
                    that(!call.getError().isBlank() && call.getCopyStrategy() == CopyStrategy.MEMORY_OBJECT_COPY_NONE,
                            "COPY_CALL must be refused with a sentence, the strategy staying NONE (spec 6.11): " + call);
                    MemoryObjectChangeCompleted delay = changeAttributes(p, m, true,
                            CopyStrategy.MEMORY_OBJECT_COPY_DELAY);
                    that(delay.getError().isEmpty() && delay.getCopyStrategy() == CopyStrategy.MEMORY_OBJECT_COPY_DELAY,
                            "COPY_DELAY must be taken (spec 6.11): " + delay);
                }));
    }

    /** Skips the case if the kernel's hello does not name {@code feature} (spec 6.12). */
    private static void needs(KernelProbe.Mapping m, String feature) {
        if (!m.link().hello().getFeaturesList().contains(feature)) {
            throw new Skipped("the kernel's hello does not name '" + feature + "' (optional, spec 6.12)");
        }
    }

    private static ListenableFuture<VmMsyncReply> msync(KernelProbe p, KernelProbe.Mapping m, long offset, long length) {
        return p.async().vmMsync(VmMsyncRequest.newBuilder().setTask(p.task()).setAddress(m.address() + offset)
                .setLength(length).build());
    }

    static PagerToKernel supply(int objectId, long offset, byte[] data, long version, boolean precious, boolean reply) {
        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(objectId).setOffset(offset).setData(ByteString.copyFrom(data))
                .setLockValue(VmProt.VM_PROT_WRITE).setVersion(version).setPrecious(precious).setReply(reply)).build();
    }

    private static PagerToKernel synchronizeCompleted(int objectId, long offset, long length, String error) {
        return PagerToKernel.newBuilder().setMemoryObjectSynchronizeCompleted(MemoryObjectSynchronizeCompleted
                .newBuilder().setObjectId(objectId).setOffset(offset).setLength(length).setError(error)).build();
    }

    private static MemoryObjectSupplyCompleted supplyCompleted(KernelProbe p, KernelProbe.Mapping m, long offset) {
        return p.await(m, "supply_completed answering a data_supply with reply (spec 6.10)",
                x -> x.hasMemoryObjectSupplyCompleted() && x.getMemoryObjectSupplyCompleted().getObjectId()
                        == m.objectId() && x.getMemoryObjectSupplyCompleted().getOffset() == offset)
                .getMemoryObjectSupplyCompleted();
    }

    /** Sends change_attributes with reply and waits for its change_completed. */
    private static MemoryObjectChangeCompleted changeAttributes(KernelProbe p, KernelProbe.Mapping m, boolean mayCache,
            CopyStrategy strategy) {
        m.link().send(PagerToKernel.newBuilder().setMemoryObjectChangeAttributes(MemoryObjectChangeAttributes
                .newBuilder().setObjectId(m.objectId()).setMayCache(mayCache).setCopyStrategy(strategy).setReply(true))
                .build());
        return p.await(m, "change_completed answering change_attributes with reply (spec 6.11)",
                x -> x.hasMemoryObjectChangeCompleted() && x.getMemoryObjectChangeCompleted().getObjectId()
                        == m.objectId()).getMemoryObjectChangeCompleted();
    }

    private static MemoryObjectDataReturn returned(KernelProbe p, KernelProbe.Mapping m, long page, String what) {
        try {
            return p.await(m, "data_return of " + what, x -> x.hasMemoryObjectDataReturn()
                    && x.getMemoryObjectDataReturn().getObjectId() == m.objectId()
                    && x.getMemoryObjectDataReturn().getOffset() == page).getMemoryObjectDataReturn();
        } catch (Violation e) {
            throw new Violation("no data_return of " + what + ": " + e.getMessage());
        }
    }
}
