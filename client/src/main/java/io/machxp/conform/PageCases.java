package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;
import static io.machxp.conform.PagerProbe.OBJECT_ID;

import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;

/** Cases of spec sections 3.5, 5 (objects), 6 (pages) and 7 (page versions). */
final class PageCases {
    private PageCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("5.1-init-ready", "memory_object_init of a served object is answered with ready, its size whole "
                        + "pages", p -> {
                    p.kernel("a");
                    Check.that(p.objectSize() > 0 && p.objectSize() % p.pageSize() == 0, "memory_object_ready size "
                            + p.objectSize() + " is not a positive multiple of the page size " + p.pageSize());
                }),
                must("5.1-init-unknown", "memory_object_init of an object the pager does not serve is answered with "
                        + "destroy", p -> {
                    FakeKernel k = p.kernel("a");
                    k.send(Messages.init(7, "no-such-object-" + p.runId(), p.pageSize()));
                    var d = k.await("memory_object_destroy for object id 7", m -> m.hasMemoryObjectDestroy()
                            && m.getMemoryObjectDestroy().getObjectId() == 7).getMemoryObjectDestroy();
                    Check.that(!d.getReason().isBlank(), "memory_object_destroy must say why (spec 12.13)");
                }),
                should("5.1-init-page-size", "memory_object_init with another page size is answered with destroy", p -> {
                    FakeKernel k = p.kernel("a");
                    k.send(Messages.init(7, p.object(), p.pageSize() * 2));
                    k.await("memory_object_destroy for object id 7 (page size " + p.pageSize() * 2 + ")",
                            m -> m.hasMemoryObjectDestroy() && m.getMemoryObjectDestroy().getObjectId() == 7);
                }),
                must("5.1-init-in-use", "memory_object_init of an id in use is answered: the same object again with "
                        + "ready, nothing changed; another object or page size ends the session: INVALID_ARGUMENT / EINVAL",
                        p -> {
                    FakeKernel a = p.kernel("a");
                    a.send(Messages.init(OBJECT_ID, p.object(), p.pageSize()));
                    var ready = a.await("memory_object_ready again for object id " + OBJECT_ID + ", initialized again "
                            + "with the same name and page size (spec 5.1: not dropped)", m -> m.hasMemoryObjectReady()
                            && m.getMemoryObjectReady().getObjectId() == OBJECT_ID).getMemoryObjectReady();
                    Check.that(ready.getSize() == p.objectSize(), "the ready again must name the same object: size "
                            + ready.getSize() + ", the first ready said " + p.objectSize());
                    p.read(a, p.freshPage(), "object id " + OBJECT_ID + " still names the object after the init again");
                    FakeKernel b = p.kernel("b");
                    b.send(Messages.init(OBJECT_ID, "no-such-object-" + p.runId(), p.pageSize()));
                    Check.endedWith(b, io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL", "object id " + OBJECT_ID
                            + ", in use, initialized again as another object (spec 5.1)");
                    FakeKernel c = p.kernel("c");
                    c.send(Messages.init(OBJECT_ID, p.object(), p.pageSize() * 2));
                    Check.endedWith(c, io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL", "object id " + OBJECT_ID
                            + ", in use, initialized again with page size " + p.pageSize() * 2 + " (spec 5.1)");
                    Check.that(!a.ended(), "another kernel's session ending must not end A's");
                }),
                must("3.5-request-uninitialized", "data_request for an object id never initialized is answered with "
                        + "data_error", p -> {
                    FakeKernel k = p.kernel("a");
                    k.send(Messages.dataRequest(99, 0, p.pageSize(), VmProt.VM_PROT_READ));
                    k.await("data_error for object id 99", m -> m.hasMemoryObjectDataError()
                            && m.getMemoryObjectDataError().getObjectId() == 99);
                }),
                must("3.5-request-outside", "data_request for a range outside the object is answered with data_error",
                        p -> {
                    FakeKernel k = p.kernel("a");
                    long outside = p.objectSize();
                    k.send(Messages.dataRequest(OBJECT_ID, outside, p.pageSize(), VmProt.VM_PROT_READ));
                    k.await("data_error at 0x" + Long.toHexString(outside) + ", the object's end", m ->
                            m.hasMemoryObjectDataError() && m.getMemoryObjectDataError().getOffset() == outside);
                }),
                must("3.5-unlock-bad-range", "data_unlock of a range that is not one page is answered with data_error",
                        p -> {
                    FakeKernel k = p.kernel("a");
                    long page = p.freshPage();
                    k.send(Messages.dataUnlock(OBJECT_ID, page, 2L * p.pageSize()));
                    k.await("data_error at 0x" + Long.toHexString(page) + " for a two-page data_unlock", m ->
                            m.hasMemoryObjectDataError() && m.getMemoryObjectDataError().getOffset() == page);
                }),
                must("6.2-read-copy", "data_request(READ) is answered with the page read-only (lock value WRITE)", p -> {
                    FakeKernel k = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page got = p.read(k, page, "data_request(READ)");
                    Check.that(got.lock() == VmProt.VM_PROT_WRITE, "a read copy must have lock value VM_PROT_WRITE; "
                            + "it has " + got.lock());
                }),
                must("6.2-write-copy", "data_request(READ_WRITE) is answered with the page writable (lock value NONE)",
                        p -> {
                    FakeKernel k = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page got = p.write(k, page, "data_request(READ_WRITE)");
                    Check.that(got.lock() == VmProt.VM_PROT_NONE, "a writable page must have lock value "
                            + "VM_PROT_NONE; it has " + got.lock());
                }),
                must("6.1-readers-share", "two kernels read one page: both get read-only copies, nobody is asked "
                        + "anything", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    Check.Page first = p.read(a, page, "A's read");
                    Check.Page second = p.read(b, page, "B's read");
                    Check.that(first.lock() == VmProt.VM_PROT_WRITE && second.lock() == VmProt.VM_PROT_WRITE,
                            "two readers must both get read-only copies (spec 6.1): lock values " + first.lock()
                                    + " and " + second.lock());
                    a.expectNone("a reader is asked nothing when another kernel reads (spec 6.7)",
                            m -> Check.isPageAnswer(m, page));
                }),
                must("6.1-write-flushes-readers", "a write takes the page from every reader first (flush, reply), and "
                        + "the writer gets it only after their lock_completed", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    p.read(a, page, "A's read");
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ_WRITE));
                    MemoryObjectLockRequest flush = Check.lockRequest(a, page, "B writes the page A reads (spec 6.1)");
                    Check.that(flush.getShouldFlush() && flush.getReply(), "the lock_request that takes a page from a "
                            + "reader must flush and ask for a reply (spec 6.4): " + flush);
                    b.expectNone("B must not get the page before A's lock_completed (spec 6.1)",
                            m -> Check.isPageAnswer(m, page));
                    a.send(Messages.lockCompleted(OBJECT_ID, page, p.pageSize()));
                    Check.Page got = Check.supplied(b, page, p.pageSize(), "B's write after A's lock_completed");
                    Check.that(got.lock() == VmProt.VM_PROT_NONE, "the writer must get lock value VM_PROT_NONE; got "
                            + got.lock());
                }),
                must("6.1-read-downgrades-writer", "a read takes write access from the writer first, asking for its "
                        + "dirty data, and the reader gets that data", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ));
                    MemoryObjectLockRequest down = Check.lockRequest(a, page, "B reads the page A writes (spec 6.1)");
                    Check.that(down.getShouldReturn() != ReturnPolicy.RETURN_NONE && down.getReply()
                            && (down.getShouldFlush() || down.getLockValue() == VmProt.VM_PROT_WRITE
                            || down.getLockValue() == VmProt.VM_PROT_READ_WRITE), "the lock_request to the writer "
                            + "must take write access, ask for dirty data and a reply (spec 6.4): " + down);
                    b.expectNone("B must not get the page before A's lock_completed (spec 6.1)",
                            m -> Check.isPageAnswer(m, page));
                    byte[] data = Messages.pattern(p.pageSize(), page + 1);
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, data, before.version() + 1, !down.getShouldFlush()));
                    a.send(Messages.lockCompleted(OBJECT_ID, page, p.pageSize()));
                    Check.Page got = Check.supplied(b, page, p.pageSize(), "B's read after A's lock_completed");
                    Check.that(got.lock() == VmProt.VM_PROT_WRITE, "a reader must get lock value VM_PROT_WRITE; got "
                            + got.lock());
                    Check.that(Arrays.equals(got.data(), data), "the reader must get the data the writer returned "
                            + "(spec 6.5)");
                    Check.that(got.version() >= before.version() + 1, "the page must come with a version at least the "
                            + "return's " + (before.version() + 1) + " (spec 7.3); it came with " + got.version());
                }),
                must("6.1-write-flushes-writer", "a write takes the page from the writer (flush, return dirty), and "
                        + "the new writer gets its data", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ_WRITE));
                    MemoryObjectLockRequest flush = Check.lockRequest(a, page, "B writes the page A writes");
                    Check.that(flush.getShouldFlush() && flush.getReply()
                            && flush.getShouldReturn() != ReturnPolicy.RETURN_NONE, "the lock_request to the writer "
                            + "must flush, ask for dirty data and a reply (spec 6.4): " + flush);
                    byte[] data = Messages.pattern(p.pageSize(), page + 2);
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, data, before.version() + 1, false));
                    a.send(Messages.lockCompleted(OBJECT_ID, page, p.pageSize()));
                    Check.Page got = Check.supplied(b, page, p.pageSize(), "B's write after A's lock_completed");
                    Check.that(got.lock() == VmProt.VM_PROT_NONE && Arrays.equals(got.data(), data), "the new "
                            + "writer must get the page writable with the data the old one returned");
                }),
                must("6.3-unlock", "data_unlock by a reader flushes the other readers, then grants write "
                        + "(lock_request lock NONE, or a supply lock NONE)", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    p.read(a, page, "A's read");
                    p.read(b, page, "B's read");
                    a.send(Messages.dataUnlock(OBJECT_ID, page, p.pageSize()));
                    MemoryObjectLockRequest flush = Check.lockRequest(b, page, "A unlocks the page B reads");
                    Check.that(flush.getShouldFlush(), "the other reader must be flushed (spec 6.3): " + flush);
                    a.expectNone("A must not get write access before B's lock_completed (spec 6.1)",
                            m -> Check.isPageAnswer(m, page));
                    b.send(Messages.lockCompleted(OBJECT_ID, page, p.pageSize()));
                    var answer = a.await("write access for A's data_unlock", m -> Check.isPageAnswer(m, page));
                    VmProt lock = answer.hasMemoryObjectLockRequest() ? answer.getMemoryObjectLockRequest().getLockValue()
                            : answer.hasMemoryObjectDataSupply() ? answer.getMemoryObjectDataSupply().getLockValue()
                            : answer.getMemoryObjectDataUnavailable().getLockValue();
                    Check.that(lock == VmProt.VM_PROT_NONE, "the answer to data_unlock must grant write (lock value "
                            + "NONE, spec 6.3): " + Messages.describe(answer));
                }),
                must("7.3-stale-return-refused", "dirty data not newer than the pager's copy is not taken", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    byte[] taken = Messages.pattern(p.pageSize(), page + 3);
                    byte[] stale = Messages.pattern(p.pageSize(), page + 4);
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, taken, before.version() + 1, true));
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, stale, before.version() + 1, true));
                    a.sync();
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ));
                    Check.lockRequest(a, page, "B reads the page A writes");
                    a.send(Messages.lockCompleted(OBJECT_ID, page, p.pageSize()));
                    Check.Page got = Check.supplied(b, page, p.pageSize(), "B's read");
                    Check.that(Arrays.equals(got.data(), taken), "a second return of version " + (before.version() + 1)
                            + " is not newer than the pager's copy and must not be taken (spec 7.3)");
                    Check.that(got.version() == before.version() + 1, "the page must have the version of the return "
                            + "taken, " + (before.version() + 1) + "; it has " + got.version());
                }),
                must("6.9-synchronize", "memory_object_synchronize is answered with synchronize_completed, and "
                        + "the pages returned before it are the pager's copy", p -> {
                    FakeKernel a = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    byte[] data = Messages.pattern(p.pageSize(), page + 6);
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, data, before.version() + 1, false));
                    a.send(Messages.synchronize(OBJECT_ID, page, p.pageSize()));
                    var done = a.await("synchronize_completed for 0x" + Long.toHexString(page), m ->
                            m.hasMemoryObjectSynchronizeCompleted()).getMemoryObjectSynchronizeCompleted();
                    Check.that(done.getObjectId() == OBJECT_ID && done.getOffset() == page
                            && done.getLength() == p.pageSize() && done.getError().isEmpty(), "synchronize_completed "
                            + "must name the range synchronized, without an error (spec 6.9): " + done);
                    FakeKernel b = p.kernel("b");
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ));
                    Check.Page got = Check.supplied(b, page, p.pageSize(), "B's read after A's synchronize");
                    Check.that(Arrays.equals(got.data(), data), "B must read the data A returned before its "
                            + "synchronize (spec 6.9)");
                }),
                must("6.9-synchronize-stale-return", "a synchronize after a dirty return that was not taken (a stale "
                        + "version) is answered with an error, not as done", p -> {
                    FakeKernel a = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, Messages.pattern(p.pageSize(), page + 21),
                            before.version() + 1, true));
                    a.send(Messages.synchronize(OBJECT_ID, page, p.pageSize()));
                    var first = a.await("synchronize_completed of the first msync", m ->
                            m.hasMemoryObjectSynchronizeCompleted()).getMemoryObjectSynchronizeCompleted();
                    Check.that(first.getError().isEmpty(), "a synchronize after a return that was taken must succeed "
                            + "(spec 6.9): " + first);
                    // the same version again (as a kernel that counts from its supply, not from its last return)
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, Messages.pattern(p.pageSize(), page + 22),
                            before.version() + 1, true));
                    a.send(Messages.synchronize(OBJECT_ID, page, p.pageSize()));
                    var second = a.await("synchronize_completed of the second msync", m ->
                            m.hasMemoryObjectSynchronizeCompleted()).getMemoryObjectSynchronizeCompleted();
                    Check.that(second.getOffset() == page && !second.getError().isBlank(), "a return of version "
                            + (before.version() + 1) + " again is stale and not taken (spec 7.3), so the synchronize "
                            + "after it must be answered with an error, not as done (spec 6.9): " + second);
                }),
                must("4.2-keepalive-after-returns", "a keepalive is answered only once the pages returned before it "
                        + "are taken: another kernel's read then gets them, asking nobody", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    byte[] data = Messages.pattern(p.pageSize(), page + 13);
                    a.send(Messages.dirtyReturn(OBJECT_ID, page, data, before.version() + 1, false)); // an eviction
                    a.sync();
                    Check.Page got = p.read(b, page, "B reads the page A gave back before its keepalive was answered "
                            + "(spec 4.2)");
                    Check.that(Arrays.equals(got.data(), data) && got.version() > before.version(), "B must read the "
                            + "data A returned before its answered keepalive (spec 4.2: a keepalive is answered only "
                            + "once the pages returned before it are in the store); got version " + got.version());
                    a.expectNone("the pager asked A for a page A gave back before its answered keepalive (spec 4.2)",
                            m -> Check.isPageAnswer(m, page));
                }),
                must("6.9-synchronize-bad-range", "memory_object_synchronize of a range outside the object is "
                        + "answered with synchronize_completed carrying an error", p -> {
                    FakeKernel k = p.kernel("a");
                    long outside = p.objectSize();
                    k.send(Messages.synchronize(OBJECT_ID, outside, p.pageSize()));
                    var done = k.await("synchronize_completed at 0x" + Long.toHexString(outside), m ->
                            m.hasMemoryObjectSynchronizeCompleted()).getMemoryObjectSynchronizeCompleted();
                    Check.that(done.getOffset() == outside && !done.getError().isBlank(), "a synchronize of a range "
                            + "outside the object must be answered with an error (spec 3.5, 6.9): " + done);
                }),
                should("7.1-first-version", "a page never written has version 0", p -> {
                    FakeKernel k = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page got = p.read(k, page, "a read");
                    if (got.version() != 0 && !Arrays.equals(got.data(), new byte[p.pageSize()])) {
                        throw new Skipped("the page was written before (an earlier run): cannot tell");
                    }
                    Check.that(got.version() == 0, "a page never written must have version 0 (spec 7.1); it has "
                            + got.version());
                }));
    }
}
