/** Every item of a paged list, following `next` to the end, with each page's size. */
export function collectPages<T>(fetch: (after: string | undefined) => { items: T[]; next?: string }): { items: T[]; sizes: number[] } {
  const items: T[] = [];
  const sizes: number[] = [];
  let after: string | undefined;
  do {
    const page = fetch(after);
    items.push(...page.items);
    sizes.push(page.items.length);
    after = page.next;
  } while (after !== undefined);
  return { items, sizes };
}
