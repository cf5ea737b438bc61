export {
  NOW_KEY,
  nowValue,
  TemplateRenderer,
  templates,
  rendererHealth,
  type RendererHealth,
  type TemplateScope,
} from './renderer.js';
export { isTemplate, scanTemplate, type ScannedTemplate } from './scan.js';
export { coerceRendered, truthy } from './typed.js';
export { plain } from './filters.js';
