/**
 * What eslint.config.js needs from the linter's plugins, resolved from this package so that
 * typescript-eslint finds the TypeScript 6 installed beside it: typescript-eslint needs
 * TypeScript's JavaScript API, which TypeScript 7 (the tsc that builds Netloom) no longer has.
 * The root package.json's `overrides` give every package under this one TypeScript 6, peer
 * dependencies included, so npm keeps them in tools/eslint/node_modules instead of hoisting them
 * to where `typescript` is 7; `tsc` in the scripts stays TypeScript 7.
 */
export { default as js } from '@eslint/js';
export { default as globals } from 'globals';
export { default as tseslint } from 'typescript-eslint';
export { importX, createNodeResolver } from 'eslint-plugin-import-x';
export { default as reactHooks } from 'eslint-plugin-react-hooks';
