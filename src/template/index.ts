export { nowValue, TemplateRenderer, templates, rendererHealth, type TemplateScope } from './renderer.js';
export { isTemplate, scanTemplate } from './scan.js';
export { plain } from './filters.js';
