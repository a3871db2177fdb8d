declare module 'virtual:error-meanings' {
  const meanings: Record<string, string>;
  export default meanings;
}
declare module '*.css';
declare module '*?raw' {
  const text: string;
  export default text;
}
