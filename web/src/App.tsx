import { useEffect, useState } from 'react';
import { Wallet } from './components/Wallet';
import { PAGES } from './pages';

function currentPage(): string {
  const id = window.location.hash.replace(/^#\/?/, '').split('?')[0];
  return PAGES.some((p) => p.id === id) ? id! : PAGES[0]!.id;
}

export function App() {
  const [pageId, setPageId] = useState(currentPage);
  useEffect(() => {
    const onHash = () => setPageId(currentPage());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const page = PAGES.find((p) => p.id === pageId)!;
  const Page = page.component;
  return (
    <>
      <header className="top">
        <strong className="brand">GridLedger</strong>
        <nav>
          {PAGES.map((p) => (
            <a key={p.id} href={`#/${p.id}`} className={p.id === pageId ? 'active' : ''} data-testid={`nav-${p.id}`}>
              {p.title}
            </a>
          ))}
        </nav>
        <Wallet />
      </header>
      <main data-testid={`page-${page.id}`}>
        <Page />
      </main>
    </>
  );
}
