// Previous/next paging for the `{count, next, previous}` lists of the API.
interface Props {
  page: number;
  pageSize: number;
  count: number;
  onPage: (page: number) => void;
  label?: string;
}

export function Pagination({ page, pageSize, count, onPage, label = "Pages" }: Props) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (pages <= 1) return null;
  return (
    <nav className="pagination" aria-label={label}>
      <button type="button" className="secondary" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        ‹ Previous
      </button>
      <span aria-current="page">
        Page {page} of {pages}
      </span>
      <button type="button" className="secondary" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next ›
      </button>
    </nav>
  );
}
