import { siteRunIds } from './src/site/runs.js';

// The report site. Everything it shows comes from data loaders in reports/ that call the library in src/;
// charts and the in-browser model are bundled from node_modules, so a built page makes no request off its origin.
export default {
  root: 'reports',
  // Tests build into their own folder.
  output: process.env.AREYOUACAT_SITE_OUT || 'dist/reports',
  title: 'areyouacat',
  // The default theme links web fonts from a CDN: no global stylesheets, no external request.
  globalStylesheets: [],
  // Theme imported by style.css, plus the site's own rules.
  style: 'style.css',
  // An empty icon: otherwise browsers ask the server root for /favicon.ico, outside a sub-path mount.
  head: '<link rel="icon" href="data:,">',
  search: false,
  toc: false,
  footer: 'areyouacat reports: built from the local data directory.',
  pages: [
    { name: 'Overview', path: '/' },
    { name: 'Runs', path: '/runs/' },
    { name: 'Data validation', path: '/validation' },
    { name: 'Model registry', path: '/registry' },
    { name: 'Monitoring', path: '/monitoring' },
    { name: 'Predict', path: '/predict' },
  ],
  // One page per tracked run (reports/runs/[run].md with its parameterized loader).
  async *dynamicPaths() {
    for (const id of await siteRunIds()) yield `/runs/${id}`;
  },
};
