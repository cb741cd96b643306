package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.snapshot.AwaitedHolder;
import io.machxp.proto.snapshot.PageImage;
import io.machxp.proto.snapshot.PageOperationImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * The page records of {@link PageCoherence} in a snapshot (pager_snapshot.proto, PageImage) and
 * back: holders, the operation in progress with the lock_completed replies it waits for, and the
 * operations queued behind it, in the table's order (the order {@link PageCoherence#forget} and
 * {@link PageCoherence#cancelRequests} walk it). A session is named by its id. Only a table at
 * rest is written: no operation waits for the store (the env's page effects are synchronous).
 * Pager core thread only.
 */
final class PageImages {
    private PageImages() {
    }

    static List<PageImage> write(PageTable table) {
        List<PageImage> out = new ArrayList<>(table.count());
        for (Iterator<PageRecord> it = table.iterator(); it.hasNext(); ) {
            PageRecord p = it.next();
            PageImage.Builder b = PageImage.newBuilder().setObject(p.key.object()).setOffset(p.offset());
            if (p.writer != null) {
                b.setWriter(p.writer.id);
            }
            p.readers.forEach(r -> b.addReaders(r.id));
            if (p.current != null) {
                b.setCurrent(write(p, p.current));
            }
            p.queue.forEach(op -> b.addQueue(write(p, op)));
            out.add(b.build());
        }
        return out;
    }

    private static PageOperationImage write(PageRecord p, PageOperation op) {
        if (op.fetching || op.fetched != null) {
            throw new IllegalStateException(p + ": an operation waits for the store; a snapshot is taken only "
                    + "between inputs of a core whose page effects are synchronous");
        }
        PageOperationImage.Builder b = PageOperationImage.newBuilder().setWrite(op.write)
                .setUnlock(op.unlock).setRecordDeaths(op.recordDeaths)
                .setTakeWriter(op.takeWriter);
        if (op.objectId != null) {
            b.setObjectId(op.objectId);
        }
        if (!op.awaited.isEmpty()) {
            b.setAskedNanos(op.askedNanos);
        }
        if (op.requester != null) {
            b.setRequester(op.requester.id);
        }
        for (Map.Entry<KernelSession, PageOperation.Change> e : op.awaited.entrySet()) {
            b.addAwaited(AwaitedHolder.newBuilder().setSession(e.getKey().id)
                    .setFlush(e.getValue() == PageOperation.Change.FLUSH));
        }
        return b.build();
    }

    /**
     * Restores the records into an empty table; {@code sessions} gives the session of an id. An
     * operation of a snapshot written before it kept when its lock_requests went out counts them
     * sent at {@code nowNanos}: their deadline starts again, later rather than earlier.
     */
    static void read(PageTable table, List<PageImage> images, ObjectCatalog catalog,
            LongFunction<KernelSession> sessions, long nowNanos) {
        if (table.count() != 0) {
            throw new IllegalStateException("page records are restored only into a core that has none");
        }
        for (PageImage image : images) {
            var object = catalog.get(image.getObject());
            if (object == null) {
                throw new IllegalArgumentException("the snapshot has a page of memory object '" + image.getObject()
                        + "', which this pager does not serve: start it with the same --object options");
            }
            PageRecord p = table.record(object, image.getOffset());
            if (image.hasWriter()) {
                p.writer = sessions.apply(image.getWriter());
            }
            image.getReadersList().forEach(id -> p.readers.add(sessions.apply(id)));
            if (image.hasCurrent()) {
                p.current = read(image.getCurrent(), sessions, nowNanos);
            }
            image.getQueueList().forEach(op -> p.enqueue(read(op, sessions, nowNanos)));
        }
    }

    private static PageOperation read(PageOperationImage image, LongFunction<KernelSession> sessions, long nowNanos) {
        PageOperation op = image.getRecordDeaths() ? PageOperation.recordDeaths()
                : new PageOperation(image.hasRequester() ? sessions.apply(image.getRequester()) : null,
                image.hasObjectId() ? image.getObjectId() : null, image.getWrite(), image.getUnlock());
        op.takeWriter = image.getTakeWriter();
        op.askedNanos = image.hasAskedNanos() ? image.getAskedNanos() : nowNanos;
        for (AwaitedHolder a : image.getAwaitedList()) {
            op.awaited.put(sessions.apply(a.getSession()),
                    a.getFlush() ? PageOperation.Change.FLUSH : PageOperation.Change.DOWNGRADE);
        }
        return op;
    }
}
